//! Signing keys for minted tokens (`jwt.private_key`) and the public keys published beside them
//! (`jwt.verification_keys`): reading PEM files, signing with ring, and the JWK (RFC 7517) and
//! thumbprint (RFC 7638) of each public key.
//!
//! A private key is parsed (and, for RSA, validated) once, when the configuration loads;
//! signing reuses the parsed key, where jsonwebtoken's encoder would parse it per signature.

use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair, RsaPublicKeyComponents,
    ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::der::{self, oid, Reader};

/// `jwt.algorithm`: how minted tokens are signed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SigningAlgorithm {
    /// HMAC-SHA256 over `jwt.secret`, upstream's only algorithm.
    #[default]
    HS256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// Ed25519.
    EdDSA,
}

impl SigningAlgorithm {
    pub const NAMES: &'static str = "HS256, RS256, ES256 or EdDSA";

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "HS256" => Some(Self::HS256),
            "RS256" => Some(Self::RS256),
            "ES256" => Some(Self::ES256),
            "EdDSA" => Some(Self::EdDSA),
            _ => None,
        }
    }

    /// The JOSE name, as in a token's `alg` header.
    pub fn name(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }

    /// Whether the algorithm signs with a private key (and so publishes a public one).
    pub fn is_asymmetric(self) -> bool {
        self != Self::HS256
    }

    /// The key type the algorithm signs with.
    fn kind(self) -> Option<Kind> {
        match self {
            Self::HS256 => None,
            Self::RS256 => Some(Kind::Rsa),
            Self::ES256 => Some(Kind::P256),
            Self::EdDSA => Some(Kind::Ed25519),
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a key file holds, as far as the messages need to say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Rsa,
    P256,
    Ed25519,
    /// Anything else, described.
    Other(&'static str),
}

impl Kind {
    fn describe(self) -> &'static str {
        match self {
            Kind::Rsa => "an RSA key",
            Kind::P256 => "a P-256 EC key",
            Kind::Ed25519 => "an Ed25519 key",
            Kind::Other(what) => what,
        }
    }

    fn from_algorithm(algorithm: &[u8], parameter: Option<&[u8]>) -> Kind {
        match algorithm {
            oid::RSA_ENCRYPTION => Kind::Rsa,
            oid::EC_PUBLIC_KEY => Kind::from_curve(parameter),
            oid::ED25519 => Kind::Ed25519,
            oid::ED448 => Kind::Other("an Ed448 key"),
            oid::RSASSA_PSS => Kind::Other("an RSA-PSS key"),
            _ => Kind::Other("a key of an unsupported type"),
        }
    }

    fn from_curve(curve: Option<&[u8]>) -> Kind {
        match curve {
            Some(oid::P256) => Kind::P256,
            Some(oid::P384) => Kind::Other("a P-384 EC key"),
            Some(oid::P521) => Kind::Other("a P-521 EC key"),
            _ => Kind::Other("an EC key on an unsupported curve"),
        }
    }
}

/// A public key that verifies minted tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    /// Modulus and exponent, big-endian without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// The affine coordinates, 32 bytes each.
    P256 { x: Vec<u8>, y: Vec<u8> },
    /// The 32-byte public key.
    Ed25519 { x: Vec<u8> },
}

/// A JWK (RFC 7517, 7518 §6, RFC 8037 §2) with the members backends look for.
#[derive(Serialize)]
pub(crate) struct Jwk<'a> {
    kty: &'static str,
    #[serde(rename = "use")]
    usage: &'static str,
    alg: &'static str,
    kid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    crv: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    e: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    y: Option<String>,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The smallest RSA modulus accepted, as ring's signing does.
const MIN_RSA_BITS: usize = 2048;

impl PublicKey {
    /// Reads a PEM public key: SubjectPublicKeyInfo (`PUBLIC KEY`, what `openssl pkey -pubout`
    /// writes) or PKCS#1 (`RSA PUBLIC KEY`).
    pub fn from_pem(pem: &[u8]) -> Result<Self, String> {
        let blocks = der::pem_blocks(pem)?;
        let Some(block) = blocks
            .iter()
            .find(|b| b.label == "PUBLIC KEY" || b.label == "RSA PUBLIC KEY")
        else {
            return Err(match blocks.first().map(|b| b.label.as_str()) {
                None => "no PEM block found (expected -----BEGIN PUBLIC KEY-----)".to_owned(),
                Some(label) if label.ends_with("PRIVATE KEY") => {
                    "holds a private key; give its public key (openssl pkey -in KEY -pubout)"
                        .to_owned()
                }
                Some("CERTIFICATE") => {
                    "holds a certificate; give its public key (openssl x509 -in CERT -noout -pubkey)"
                        .to_owned()
                }
                Some(label) => format!("holds \"{label}\", not a public key"),
            });
        };
        let parsed = if block.label == "RSA PUBLIC KEY" {
            rsa_public_key(&block.der)
        } else {
            subject_public_key_info(&block.der)
        };
        parsed.map_err(|e| format!("cannot read the public key: {e}"))
    }

    pub fn algorithm(&self) -> SigningAlgorithm {
        match self {
            PublicKey::Rsa { .. } => SigningAlgorithm::RS256,
            PublicKey::P256 { .. } => SigningAlgorithm::ES256,
            PublicKey::Ed25519 { .. } => SigningAlgorithm::EdDSA,
        }
    }

    /// The RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order,
    /// Base64url. It is the default `kid`: stable for a key, whatever the file looks like.
    pub fn thumbprint(&self) -> String {
        let canonical = match self {
            PublicKey::Rsa { n, e } => {
                format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b64(e), b64(n))
            }
            PublicKey::P256 { x, y } => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                b64(x),
                b64(y)
            ),
            PublicKey::Ed25519 { x } => {
                format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b64(x))
            }
        };
        b64(&Sha256::digest(canonical.as_bytes()))
    }

    pub(crate) fn jwk<'a>(&self, kid: &'a str) -> Jwk<'a> {
        let mut jwk = Jwk {
            kty: "",
            usage: "sig",
            alg: self.algorithm().name(),
            kid,
            crv: None,
            n: None,
            e: None,
            x: None,
            y: None,
        };
        match self {
            PublicKey::Rsa { n, e } => {
                jwk.kty = "RSA";
                jwk.n = Some(b64(n));
                jwk.e = Some(b64(e));
            }
            PublicKey::P256 { x, y } => {
                jwk.kty = "EC";
                jwk.crv = Some("P-256");
                jwk.x = Some(b64(x));
                jwk.y = Some(b64(y));
            }
            PublicKey::Ed25519 { x } => {
                jwk.kty = "OKP";
                jwk.crv = Some("Ed25519");
                jwk.x = Some(b64(x));
            }
        }
        jwk
    }

    fn rsa(n: &[u8], e: &[u8]) -> Result<Self, String> {
        let bits = n.len() * 8 - n.first().map_or(8, |b| b.leading_zeros() as usize);
        if bits < MIN_RSA_BITS {
            return Err(format!(
                "the RSA key has {bits} bits; {MIN_RSA_BITS} at least"
            ));
        }
        if e.is_empty() || e == [0] {
            return Err(der::MALFORMED.to_owned());
        }
        Ok(PublicKey::Rsa {
            n: n.to_vec(),
            e: e.to_vec(),
        })
    }

    /// From the uncompressed point `04 || X || Y`.
    fn p256(point: &[u8]) -> Result<Self, String> {
        match point {
            [4, xy @ ..] if xy.len() == 64 => Ok(PublicKey::P256 {
                x: xy[..32].to_vec(),
                y: xy[32..].to_vec(),
            }),
            _ => Err("the EC point is not an uncompressed P-256 point".to_owned()),
        }
    }

    fn ed25519(x: &[u8]) -> Result<Self, String> {
        if x.len() != 32 {
            return Err("an Ed25519 public key has 32 bytes".to_owned());
        }
        Ok(PublicKey::Ed25519 { x: x.to_vec() })
    }
}

/// PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
fn rsa_public_key(der: &[u8]) -> Result<PublicKey, String> {
    let mut outer = Reader::new(der);
    let mut r = Reader::new(outer.expect(der::TAG_SEQUENCE)?);
    let n = r.unsigned_integer()?;
    let e = r.unsigned_integer()?;
    if !r.is_empty() || !outer.is_empty() {
        return Err(der::MALFORMED.to_owned());
    }
    PublicKey::rsa(n, e)
}

/// `SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }`.
fn subject_public_key_info(der: &[u8]) -> Result<PublicKey, String> {
    let mut outer = Reader::new(der);
    let mut r = Reader::new(outer.expect(der::TAG_SEQUENCE)?);
    let (algorithm, parameter) = der::algorithm_identifier(&mut r)?;
    let key = r.bit_string()?;
    if !r.is_empty() || !outer.is_empty() {
        return Err(der::MALFORMED.to_owned());
    }
    match Kind::from_algorithm(algorithm, parameter) {
        Kind::Rsa => rsa_public_key(key),
        Kind::P256 => PublicKey::p256(key),
        Kind::Ed25519 => PublicKey::ed25519(key),
        Kind::Other(what) => Err(format!(
            "this is {what}; keys must be RSA, P-256 EC or Ed25519"
        )),
    }
}

enum Pair {
    Rsa(RsaKeyPair),
    P256(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A parsed private key and its public key. Cloning shares the parsed key.
#[derive(Clone)]
pub struct SigningKey {
    pair: Arc<Pair>,
    public: PublicKey,
}

impl SigningKey {
    /// Reads a PEM private key for `algorithm`: PKCS#8 (`PRIVATE KEY`, what `openssl genpkey`
    /// writes), PKCS#1 (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`). Messages describe the
    /// file, never its contents.
    pub fn from_pem(algorithm: SigningAlgorithm, pem: &[u8]) -> Result<Self, String> {
        let Some(wanted) = algorithm.kind() else {
            return Err(format!("{algorithm} signs with jwt.secret, not a key file"));
        };
        let blocks = der::pem_blocks(pem)?;
        let Some(block) = blocks.iter().find(|b| b.label.ends_with("PRIVATE KEY")) else {
            return Err(match blocks.first().map(|b| b.label.as_str()) {
                None => "no PEM block found (expected -----BEGIN PRIVATE KEY-----)".to_owned(),
                Some(label) if label.ends_with("PUBLIC KEY") => {
                    "holds a public key, not a private key".to_owned()
                }
                Some(label) => format!("holds \"{label}\", not a private key"),
            });
        };
        if block.label == "ENCRYPTED PRIVATE KEY" || block.encrypted {
            return Err("the private key is encrypted; decrypt it (openssl pkey -in KEY -out PLAIN) and protect the file instead".to_owned());
        }
        let malformed = |e: &str| format!("cannot read the private key: {e}");
        let (kind, pkcs8) = match block.label.as_str() {
            "PRIVATE KEY" => (pkcs8_kind(&block.der).map_err(malformed)?, true),
            "RSA PRIVATE KEY" => (Kind::Rsa, false),
            "EC PRIVATE KEY" => (sec1_kind(&block.der).map_err(malformed)?, false),
            other => return Err(format!("\"{other}\" keys are not supported")),
        };
        if kind != wanted {
            return Err(format!(
                "jwt.algorithm {algorithm} needs {}; this file holds {}",
                wanted.describe(),
                kind.describe()
            ));
        }
        let rejected = |e: ring::error::KeyRejected| match e.to_string().as_str() {
            "TooSmall" => format!("the RSA key is too small ({MIN_RSA_BITS} bits at least)"),
            "TooLarge" => "the RSA key is too large (4096 bits at most)".to_owned(),
            "PrivateModulusLenNotMultipleOf512Bits" => {
                "the RSA key size must be a multiple of 1024 bits (2048, 3072 or 4096)".to_owned()
            }
            other => format!("the key is not usable ({other})"),
        };
        let pair = match kind {
            Kind::Rsa if pkcs8 => Pair::Rsa(RsaKeyPair::from_pkcs8(&block.der).map_err(rejected)?),
            Kind::Rsa => Pair::Rsa(RsaKeyPair::from_der(&block.der).map_err(rejected)?),
            Kind::P256 => {
                let wrapped;
                let pkcs8_der = if pkcs8 {
                    &block.der
                } else {
                    wrapped = sec1_to_pkcs8(&block.der);
                    &wrapped
                };
                Pair::P256(
                    EcdsaKeyPair::from_pkcs8(
                        &ECDSA_P256_SHA256_FIXED_SIGNING,
                        pkcs8_der,
                        &SystemRandom::new(),
                    )
                    .map_err(rejected)?,
                )
            }
            Kind::Ed25519 => Pair::Ed25519(
                Ed25519KeyPair::from_pkcs8_maybe_unchecked(&block.der).map_err(rejected)?,
            ),
            Kind::Other(_) => unreachable!("kind equals the algorithm's"),
        };
        let public = match &pair {
            Pair::Rsa(p) => {
                let c: RsaPublicKeyComponents<Vec<u8>> = p.public().into();
                PublicKey::Rsa { n: c.n, e: c.e }
            }
            Pair::P256(p) => PublicKey::p256(p.public_key().as_ref())?,
            Pair::Ed25519(p) => PublicKey::ed25519(p.public_key().as_ref())?,
        };
        Ok(SigningKey {
            pair: Arc::new(pair),
            public,
        })
    }

    pub fn algorithm(&self) -> SigningAlgorithm {
        self.public.algorithm()
    }

    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The JWS signature of `message` (for ES256 the 64-byte `r || s`, as JWS wants).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        let rng = SystemRandom::new();
        match &*self.pair {
            Pair::Rsa(p) => {
                let mut signature = vec![0; p.public().modulus_len()];
                p.sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature)
                    .map_err(|_| "RSA signing failed".to_owned())?;
                Ok(signature)
            }
            Pair::P256(p) => p
                .sign(&rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| "ECDSA signing failed".to_owned()),
            Pair::Ed25519(p) => Ok(p.sign(message).as_ref().to_vec()),
        }
    }
}

/// Two signing keys are the same when their public keys are.
impl PartialEq for SigningKey {
    fn eq(&self, other: &Self) -> bool {
        self.public == other.public
    }
}

impl Eq for SigningKey {}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm())
            .field("thumbprint", &self.public.thumbprint())
            .field("private", &"<redacted>")
            .finish()
    }
}

/// The key type of a PKCS#8 `PrivateKeyInfo`.
fn pkcs8_kind(der: &[u8]) -> Result<Kind, &'static str> {
    let mut outer = Reader::new(der);
    let mut r = Reader::new(outer.expect(der::TAG_SEQUENCE)?);
    r.unsigned_integer()?;
    let (algorithm, parameter) = der::algorithm_identifier(&mut r)?;
    Ok(Kind::from_algorithm(algorithm, parameter))
}

/// The curve of a SEC1 `ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING,
/// [0] parameters OPTIONAL, [1] publicKey OPTIONAL }`; without parameters, the curve whose
/// private keys have that length.
fn sec1_kind(der: &[u8]) -> Result<Kind, &'static str> {
    let mut outer = Reader::new(der);
    let mut r = Reader::new(outer.expect(der::TAG_SEQUENCE)?);
    r.unsigned_integer()?;
    let private = r.expect(der::TAG_OCTET_STRING)?;
    if r.peek_tag() == Some(der::TAG_CONTEXT_0) {
        let curve = Reader::new(r.expect(der::TAG_CONTEXT_0)?).expect(der::TAG_OID)?;
        return Ok(Kind::from_curve(Some(curve)));
    }
    Ok(Kind::from_curve((private.len() == 32).then_some(oid::P256)))
}

/// Wraps a SEC1 P-256 key in PKCS#8 v1, the only form ring reads.
fn sec1_to_pkcs8(sec1: &[u8]) -> Vec<u8> {
    let mut algorithm = Vec::new();
    der::write(&mut algorithm, der::TAG_OID, oid::EC_PUBLIC_KEY);
    der::write(&mut algorithm, der::TAG_OID, oid::P256);
    let mut body = Vec::new();
    der::write(&mut body, der::TAG_INTEGER, &[0]);
    der::write(&mut body, der::TAG_SEQUENCE, &algorithm);
    der::write(&mut body, der::TAG_OCTET_STRING, sec1);
    let mut out = Vec::new();
    der::write(&mut out, der::TAG_SEQUENCE, &body);
    out
}

#[cfg(test)]
pub(crate) mod tests;
