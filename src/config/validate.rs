//! Checks on single values that the type alone does not express. Messages describe the rule,
//! never the value.

/// A realm is written into `WWW-Authenticate: Basic realm="…"`, so it must not be able to
/// end the quoted string or the header.
pub(crate) fn realm(realm: &str) -> Result<(), String> {
    if realm.is_empty() {
        return Err("realm must not be empty".to_owned());
    }
    if realm
        .chars()
        .any(|c| c == '"' || c == '\\' || c.is_control())
    {
        return Err(
            "realm must not contain `\"`, `\\` or control characters (it is sent in the WWW-Authenticate header)"
                .to_owned(),
        );
    }
    Ok(())
}

/// RFC 6749 §3.3 `scope-token`: `%x21 / %x23-5B / %x5D-7E`, at least one. Such a scope can
/// be written into a quoted `WWW-Authenticate` parameter as it is.
pub(crate) fn is_scope_token(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

/// Identity service addresses must be absolute http(s) URLs; anything else could never be
/// called, and finding out at request time would turn every login into a 503.
pub(crate) fn http_url(text: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(text).map_err(|e| format!("is not a usable URL ({e})"))?;
    match url.scheme() {
        "http" | "https" => Ok(()),
        other => Err(format!("must be an http or https URL, not `{other}:`")),
    }
}

/// `password_hash` must be an Argon2id PHC string or a bcrypt hash.
pub(crate) fn password_hash(hash: &str) -> Result<(), String> {
    const BCRYPT: &[&str] = &["$2a$", "$2b$", "$2y$"];
    const OTHER_ARGON2: &[&str] = &["$argon2i$", "$argon2d$"];

    if hash.starts_with("$argon2id$") {
        return argon2id(hash);
    }
    if BCRYPT.iter().any(|prefix| hash.starts_with(prefix)) {
        return bcrypt(hash);
    }
    if OTHER_ARGON2.iter().any(|prefix| hash.starts_with(prefix)) {
        return Err(
            "password_hash uses argon2i or argon2d; only Argon2id (`$argon2id$…`) is accepted"
                .to_owned(),
        );
    }
    Err("password_hash must be an Argon2id PHC string (`$argon2id$…`) or a bcrypt hash (`$2a$`, `$2b$` or `$2y$`)".to_owned())
}

fn argon2id(hash: &str) -> Result<(), String> {
    // `password_hash::Error` messages name the broken part, never the input.
    let parsed = argon2::PasswordHash::new(hash)
        .map_err(|err| format!("password_hash is not a valid Argon2id PHC string: {err}"))?;
    if parsed.algorithm.as_str() != "argon2id" {
        return Err("password_hash is not an Argon2id PHC string".to_owned());
    }
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err(
            "password_hash is not a valid Argon2id PHC string: it lacks the salt or the hash"
                .to_owned(),
        );
    }
    argon2::Params::try_from(&parsed).map_err(|err| {
        format!("password_hash is not a valid Argon2id PHC string: bad parameters: {err}")
    })?;
    Ok(())
}

fn bcrypt(hash: &str) -> Result<(), String> {
    const MESSAGE: &str = "password_hash is not a valid bcrypt hash (expected 60 characters: `$2b$`, a two-digit cost from 04 to 31, `$`, then 53 characters of salt and hash)";
    let bytes = hash.as_bytes();
    if bytes.len() != 60 || bytes[6] != b'$' {
        return Err(MESSAGE.to_owned());
    }
    let cost = std::str::from_utf8(&bytes[4..6])
        .ok()
        .filter(|digits| digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| digits.parse::<u32>().ok());
    if !matches!(cost, Some(4..=31)) {
        return Err(MESSAGE.to_owned());
    }
    let alphabet = |b: &u8| b.is_ascii_alphanumeric() || *b == b'.' || *b == b'/';
    if !bytes[7..].iter().all(alphabet) {
        return Err(MESSAGE.to_owned());
    }
    Ok(())
}

/// Upstream's v1 `bind_address`: `HOST:PORT`, split at the last `:`, port a u16, brackets
/// around the host dropped, host not empty.
pub(crate) fn bind_address(address: &str) -> Result<(String, u16), String> {
    let (host, port) = address
        .rsplit_once(':')
        .ok_or_else(|| "bind_address must be HOST:PORT".to_owned())?;
    let port = port
        .parse::<u16>()
        .map_err(|_| "bind_address: the port must be a number from 0 to 65535".to_owned())?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err("bind_address: the host must not be empty".to_owned());
    }
    Ok((host.to_owned(), port))
}
