//! Just enough PEM and DER to tell what a key file holds: its PEM label, the algorithm of a
//! PKCS#8 or SubjectPublicKeyInfo structure and the public numbers of a public key. ring does
//! the cryptographic parsing of private keys; this only reads structure.

use base64::Engine;

pub(super) const TAG_INTEGER: u8 = 0x02;
pub(super) const TAG_BIT_STRING: u8 = 0x03;
pub(super) const TAG_OCTET_STRING: u8 = 0x04;
pub(super) const TAG_OID: u8 = 0x06;
pub(super) const TAG_SEQUENCE: u8 = 0x30;
/// `[0]`, constructed: the curve parameters of a SEC1 `ECPrivateKey`.
pub(super) const TAG_CONTEXT_0: u8 = 0xa0;

/// Object identifiers, as their DER contents.
pub(super) mod oid {
    /// 1.2.840.113549.1.1.1
    pub(crate) const RSA_ENCRYPTION: &[u8] =
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    /// 1.2.840.113549.1.1.10
    pub(crate) const RSASSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
    /// 1.2.840.10045.2.1
    pub(crate) const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    /// 1.2.840.10045.3.1.7 (prime256v1)
    pub(crate) const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    /// 1.3.132.0.34
    pub(crate) const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    /// 1.3.132.0.35
    pub(crate) const P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
    /// 1.3.101.112
    pub(crate) const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
    /// 1.3.101.113
    pub(crate) const ED448: &[u8] = &[0x2b, 0x65, 0x71];
}

/// One PEM block: its label (`PRIVATE KEY`, `PUBLIC KEY`, …) and decoded contents.
pub(super) struct PemBlock {
    pub(super) label: String,
    /// Whether the block has RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`): a legacy encrypted key.
    pub(super) encrypted: bool,
    pub(super) der: Vec<u8>,
}

/// Every PEM block of `text`, in order. Text outside blocks is ignored, as OpenSSL does.
pub(super) fn pem_blocks(text: &[u8]) -> Result<Vec<PemBlock>, String> {
    let text = std::str::from_utf8(text).map_err(|_| "not a PEM file (not text)".to_owned())?;
    let mut blocks = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut body = String::new();
        let mut encrypted = false;
        let mut closed = false;
        for line in lines.by_ref() {
            if line == end {
                closed = true;
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                encrypted |= name.trim() == "Proc-Type" && value.contains("ENCRYPTED");
                continue;
            }
            body.push_str(line);
        }
        if !closed {
            return Err(format!("the PEM block \"{label}\" has no END line"));
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|_| format!("the PEM block \"{label}\" is not valid Base64"))?;
        blocks.push(PemBlock {
            label: label.to_owned(),
            encrypted,
            der,
        });
    }
    Ok(blocks)
}

/// A cursor over DER-encoded elements.
#[derive(Clone, Copy)]
pub(super) struct Reader<'a> {
    rest: &'a [u8],
}

/// What every DER mistake is reported as: the structure, not the value.
pub(super) const MALFORMED: &str = "malformed DER";

impl<'a> Reader<'a> {
    pub(super) fn new(der: &'a [u8]) -> Self {
        Reader { rest: der }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub(super) fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// The next element's tag and contents.
    pub(super) fn any(&mut self) -> Result<(u8, &'a [u8]), &'static str> {
        let (&tag, rest) = self.rest.split_first().ok_or(MALFORMED)?;
        let (&first, mut rest) = rest.split_first().ok_or(MALFORMED)?;
        let len = match first {
            0..=0x7f => usize::from(first),
            0x81..=0x84 => {
                let n = usize::from(first & 0x7f);
                if rest.len() < n {
                    return Err(MALFORMED);
                }
                let (bytes, after) = rest.split_at(n);
                rest = after;
                bytes
                    .iter()
                    .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
            }
            // Indefinite lengths are BER, not DER; longer ones cannot be a key.
            _ => return Err(MALFORMED),
        };
        if rest.len() < len {
            return Err(MALFORMED);
        }
        let (contents, after) = rest.split_at(len);
        self.rest = after;
        Ok((tag, contents))
    }

    /// The contents of the next element, which must have tag `tag`.
    pub(super) fn expect(&mut self, tag: u8) -> Result<&'a [u8], &'static str> {
        match self.any()? {
            (t, contents) if t == tag => Ok(contents),
            _ => Err(MALFORMED),
        }
    }

    /// A non-negative INTEGER, big-endian without its sign byte.
    pub(super) fn unsigned_integer(&mut self) -> Result<&'a [u8], &'static str> {
        let contents = self.expect(TAG_INTEGER)?;
        match contents {
            [] => Err(MALFORMED),
            [first, ..] if first & 0x80 != 0 => Err(MALFORMED),
            [0, rest @ ..] if !rest.is_empty() => Ok(rest),
            _ => Ok(contents),
        }
    }

    /// The contents of a BIT STRING without unused bits.
    pub(super) fn bit_string(&mut self) -> Result<&'a [u8], &'static str> {
        match self.expect(TAG_BIT_STRING)? {
            [0, bits @ ..] => Ok(bits),
            _ => Err(MALFORMED),
        }
    }
}

/// An `AlgorithmIdentifier`: the algorithm's OID and, when it is one, the parameter's OID (the
/// curve of an EC key).
pub(super) fn algorithm_identifier<'a>(
    r: &mut Reader<'a>,
) -> Result<(&'a [u8], Option<&'a [u8]>), &'static str> {
    let mut inner = Reader::new(r.expect(TAG_SEQUENCE)?);
    let algorithm = inner.expect(TAG_OID)?;
    let parameter = match inner.peek_tag() {
        Some(TAG_OID) => Some(inner.expect(TAG_OID)?),
        Some(_) => {
            inner.any()?;
            None
        }
        None => None,
    };
    if !inner.is_empty() {
        return Err(MALFORMED);
    }
    Ok((algorithm, parameter))
}

/// Appends one DER element.
pub(super) fn write(out: &mut Vec<u8>, tag: u8, contents: &[u8]) {
    out.push(tag);
    let len = contents.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(contents);
}

#[cfg(test)]
mod tests;
