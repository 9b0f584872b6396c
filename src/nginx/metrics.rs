//! The metrics shared memory zone and its rendering (to be completed by the metrics work).

use crate::auth::Authenticator;

pub fn render(_: &Authenticator) -> Vec<u8> {
    Vec::new()
}
