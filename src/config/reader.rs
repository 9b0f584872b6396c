//! Which NGINX process is reading nginx.conf, and so whether `authotron_config` loads the YAML.

/// The process parsing nginx.conf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfReader {
    /// `nginx -s reload|quit|stop|reopen`: it parses nginx.conf only to find the pid file of
    /// the running master. It runs from whatever shell the operator has, usually without the
    /// `AOT_*` variables the master was started with, so loading the YAML there would fail on
    /// a secret that the master has, and the signal would never be sent.
    Signaller,
    /// `nginx -t` (with or without `-s`): checks everything.
    Tester,
    /// The process that will run the configuration: a master, or NGINX without one.
    Server,
}

impl ConfReader {
    /// Whether this process loads and checks the YAML. Only the signaller skips it: it never
    /// serves a request, and the master it signals loads the YAML itself on reload.
    pub fn loads_yaml(self) -> bool {
        self != ConfReader::Signaller
    }
}

#[cfg(test)]
mod tests {
    use super::ConfReader;

    #[test]
    fn only_the_signaller_skips_the_yaml() {
        assert!(!ConfReader::Signaller.loads_yaml());
        assert!(ConfReader::Tester.loads_yaml());
        assert!(ConfReader::Server.loads_yaml());
    }
}
