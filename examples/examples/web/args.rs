//! The web examples' command-line flags.

/// `--port N`, if given; 0 (any free port) otherwise.
pub fn port_flag(args: &[String]) -> anyhow::Result<u16> {
    match args.iter().position(|arg| arg == "--port") {
        Some(at) => Ok(args
            .get(at + 1)
            .map(|port| port.parse())
            .transpose()?
            .unwrap_or(0)),
        None => Ok(0),
    }
}
