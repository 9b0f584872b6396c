package Test::Authotron::H2;

# A minimal HTTP/2 client (RFC 9113) for the suite: cleartext with prior knowledge (h2c), which
# NGINX accepts on the HTTP/2 listener of a block with the http2 section ($run->{h2_port}). It puts many requests on one
# connection as concurrent streams, cancels streams (RST_STREAM) or drops the connection while
# their answers are pending, and reads the answers back.
#
#   my $h2 = Test::Authotron::H2->connect($run);     # to the block's NGINX
#   my $id = $h2->request("GET /api/x\nAuthorization: Basic %%BASE64(alice:pw)%%");
#   $h2->answered($id);                  # whether anything of its answer arrived yet
#   $h2->cancel($id);                    # RST_STREAM, error code CANCEL
#   my @res = $h2->collect(20, @ids);    # answers in the order of @ids, within 20 s
#   $h2->late_frames($id);               # HEADERS and DATA that came after cancel($id)
#   $h2->hang_up;                        # drops the connection without a GOAWAY
#
# A request is written as a block's `request` section ("METHOD /uri" and header lines) and goes
# through the harness's raw_request, so that placeholders are expanded and the credentials noted
# for the block's log checks; the tokens NGINX hands out in the answers are noted as well. An
# answer is { status, body, raw, received }, as the harness's HTTP/1.1 answers, without
# headers: NGINX Huffman-codes response header values, and decoding :status needs none of that
# (see status_of). The echo backend's body says which request and which JWT it received.
#
# Requests are HPACK literals without indexing and without Huffman coding, so the client keeps
# no dynamic table. It opens its receive windows to the maximum at once and so never sends
# WINDOW_UPDATE; it sends no request bodies, so NGINX's windows do not matter either.

use strict;
use warnings;

use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);

my $PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

my %TYPE = (DATA => 0, HEADERS => 1, RST_STREAM => 3, SETTINGS => 4, PING => 6, GOAWAY => 7,
    WINDOW_UPDATE => 8, CONTINUATION => 9);
my %FLAG = (END_STREAM => 0x1, ACK => 0x1, END_HEADERS => 0x4, PADDED => 0x8, PRIORITY => 0x20);
my $CANCEL = 0x8;
my $MAX_WINDOW = 2**31 - 1;
my $DEFAULT_WINDOW = 65535;
my $MAX_FRAME = 16384;    # SETTINGS_MAX_FRAME_SIZE unless the peer raises it; we never ask to

# Statuses that have an entry of their own in the HPACK static table (RFC 7541, appendix A).
my %STATIC_STATUS = (8 => 200, 9 => 204, 10 => 206, 11 => 304, 12 => 400, 13 => 404, 14 => 500);

sub connect {
    my ($class, $run) = @_;
    my $port = $run->{h2_port} // die "the block has no HTTP/2 listener: give it the http2 section\n";
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp')
      or die "cannot connect to nginx on port $port: $!\n";
    $sock->autoflush(1);
    print {$sock} $PREFACE or die "cannot write to nginx: $!\n";
    my $self = bless { run => $run, sock => $sock, in => '', streams => {}, next_id => 1 }, $class;
    # SETTINGS_ENABLE_PUSH 0, SETTINGS_INITIAL_WINDOW_SIZE (every stream's window) at its maximum;
    # the connection's own window can only grow by WINDOW_UPDATE.
    $self->write_frame('SETTINGS', 0, 0, pack('nN nN', 2, 0, 4, $MAX_WINDOW));
    $self->write_frame('WINDOW_UPDATE', 0, 0, pack('N', $MAX_WINDOW - $DEFAULT_WINDOW));
    return $self;
}

# Opens a stream with the request (no body) and returns its id.
sub request {
    my ($self, $spec) = @_;
    my $raw = $self->{run}->raw_request($spec);
    my $id = $self->{next_id};
    $self->{next_id} += 2;    # client-initiated streams are odd
    my $block = join '', map { "\x00" . hpack_string($_->[0]) . hpack_string($_->[1]) } header_fields($raw);
    die "a header block of " . length($block) . " bytes needs CONTINUATION frames, which request() does not write\n"
      if length $block > $MAX_FRAME;
    $self->{streams}{$id} = { body => '' };
    $self->write_frame('HEADERS', $FLAG{END_HEADERS} | $FLAG{END_STREAM}, $id, $block);
    return $id;
}

sub cancel {
    my ($self, @ids) = @_;
    for my $id (@ids) {
        $self->write_frame('RST_STREAM', 0, $id, pack('N', $CANCEL));
        $self->{streams}{$id}{cancelled} = 1;
    }
}

sub hang_up {
    my ($self) = @_;
    my $sock = delete $self->{sock} or return;
    close $sock;
}

# Whether any of the stream's answer has arrived, reading what NGINX has sent so far.
sub answered {
    my ($self, $id) = @_;
    1 while $self->read_frame(time);
    my $s = $self->{streams}{$id};
    return $s->{headers} || length $s->{body} || $s->{done} ? 1 : 0;
}

# HEADERS and DATA frames of the stream that arrived after cancel(): none can, for a stream that
# had no answer on its way when it was cancelled, unless NGINX resumed the request.
sub late_frames { $_[0]{streams}{ $_[1] }{late} // 0 }

# Reads until every stream in @ids has ended (or the time is up) and returns their answers; an
# unfinished stream's answer has no status.
sub collect {
    my ($self, $seconds, @ids) = @_;
    my $deadline = time + $seconds;
    while (grep { !$self->{streams}{$_}{done} } @ids) {
        $self->read_frame($deadline) or last;
    }
    my @res = map {
        my $s = $self->{streams}{$_};
        my %res = (body => $s->{body}, raw => $s->{body}, received => $s->{done});
        $res{status} = $s->{status} if $s->{done} && !defined $s->{reset};
        \%res;
    } @ids;
    push @{ $self->{run}{sent_secrets} }, map { Test::Authotron::Run::issued_secrets($_) } @res;
    return @res;
}

# --- frames ----------------------------------------------------------------------------------

sub write_frame {
    my ($self, $type, $flags, $id, $payload) = @_;
    my $frame = substr(pack('N', length $payload), 1) . pack('CCN', $TYPE{$type}, $flags, $id) . $payload;
    my $sock = $self->{sock} or die "the HTTP/2 connection is closed\n";
    print {$sock} $frame or die "cannot write to nginx: $!\n";
}

# Reads and handles one frame; false when none arrived before $deadline or the connection ended.
sub read_frame {
    my ($self, $deadline) = @_;
    while (1) {
        if (length $self->{in} >= 9) {
            my $length = unpack 'N', "\0" . substr($self->{in}, 0, 3);
            if (length $self->{in} >= 9 + $length) {
                my ($type, $flags, $id) = unpack 'CCN', substr($self->{in}, 3, 6);
                my $payload = substr $self->{in}, 9, $length;
                substr($self->{in}, 0, 9 + $length) = '';
                $self->handle($type, $flags, $id & 0x7fffffff, $payload);
                return 1;
            }
        }
        my $sock = $self->{sock} or return 0;
        my $wait = $deadline - time;
        return 0 unless IO::Select->new($sock)->can_read($wait > 0 ? $wait : 0);
        my $n = sysread $sock, my $chunk, 65536;
        return 0 unless $n;
        $self->{in} .= $chunk;
    }
}

sub handle {
    my ($self, $type, $flags, $id, $payload) = @_;
    my $s = $id ? $self->{streams}{$id} //= { body => '' } : undef;
    if ($type == $TYPE{DATA}) {
        $s->{late}++ if $s->{cancelled};
        $s->{body} .= unpad($flags, $payload);
    } elsif ($type == $TYPE{HEADERS}) {
        $s->{late}++ if $s->{cancelled};
        my $fragment = unpad($flags, $payload);
        substr($fragment, 0, 5) = '' if $flags & $FLAG{PRIORITY};    # stream dependency, weight
        $s->{block} = $fragment;
    } elsif ($type == $TYPE{CONTINUATION}) {
        $s->{block} .= $payload;
    } elsif ($type == $TYPE{RST_STREAM}) {
        @$s{qw(reset done)} = (unpack('N', $payload), time);
    } elsif ($type == $TYPE{SETTINGS}) {
        $self->write_frame('SETTINGS', $FLAG{ACK}, 0, '') unless $flags & $FLAG{ACK};
    } elsif ($type == $TYPE{PING}) {
        $self->write_frame('PING', $FLAG{ACK}, 0, $payload) unless $flags & $FLAG{ACK};
    } elsif ($type == $TYPE{GOAWAY}) {
        # Streams above the last one NGINX processed will never be answered.
        my $last = unpack('N', $payload) & 0x7fffffff;
        $self->{streams}{$_}{done} //= time for grep { $_ > $last } keys %{ $self->{streams} };
    }
    # A header block is complete at END_HEADERS: the first is the answer's, a later one trailers.
    if (($type == $TYPE{HEADERS} || $type == $TYPE{CONTINUATION}) && $flags & $FLAG{END_HEADERS}) {
        my $block = delete $s->{block};
        $s->{status} = status_of($block) unless $s->{headers}++;
    }
    $s->{done} //= time if ($type == $TYPE{DATA} || $type == $TYPE{HEADERS}) && $flags & $FLAG{END_STREAM};
}

sub unpad {
    my ($flags, $payload) = @_;
    return $payload unless $flags & $FLAG{PADDED};
    my $pad = ord $payload;
    return substr $payload, 1, length($payload) - 1 - $pad;
}

# --- HPACK -----------------------------------------------------------------------------------

# The header fields of an HTTP/1.1 request: the request line and Host become pseudo-header
# fields, names are lowercased, and Connection goes (HTTP/2 forbids connection-specific fields).
sub header_fields {
    my ($raw) = @_;
    my ($line, @lines) = split /\r\n/, $raw;
    my ($method, $path) = split / /, $line;
    my @pseudo = ([':method', $method], [':scheme', 'http'], [':path', $path]);
    my @fields;
    for (@lines) {
        my ($name, $value) = /^([^:]+):[ \t]*(.*?)[ \t]*$/ or next;
        $name = lc $name;
        next if $name eq 'connection';
        if ($name eq 'host') { push @pseudo, [':authority', $value] } else { push @fields, [$name, $value] }
    }
    return @pseudo, @fields;
}

# A string literal without Huffman coding: its length as an HPACK integer with a 7-bit prefix.
sub hpack_string {
    my ($s) = @_;
    my $len = length $s;
    return chr($len) . $s if $len < 127;
    my $out = chr 127;
    for ($len -= 127; $len >= 128; $len >>= 7) { $out .= chr(0x80 | ($len & 0x7f)) }
    return $out . chr($len) . $s;
}

# The :status of a response's header block. NGINX writes it first, either as a static-table
# index or as a literal (with incremental indexing) of name index 8 and three plain digits, after
# a dynamic table size update to 0 (one byte, 0x20) when the client changed the table size.
sub status_of {
    my ($block) = @_;
    $block =~ s/\A[\x20-\x3f]+//;    # dynamic table size updates
    my $first = ord $block;
    return $STATIC_STATUS{ $first & 0x7f } if $first & 0x80;
    my $name = $first & 0x40 ? $first & 0x3f : $first & 0x0f;
    my $length = ord substr $block, 1, 1;
    return undef unless $name == 8 && $length == 3;    # not :status, or Huffman-coded
    return substr $block, 2, 3;
}

1;
