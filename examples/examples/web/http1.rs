//! A minimal HTTP/1.1 client over a tokio `TcpStream`, shared by the web examples, their
//! tests and the load test (included with `#[path]`; this folder is not an example itself).
//!
//! Why not a client library: the tests must close their side of a connection (FIN) or reset
//! it (RST) in the middle of a request, which needs the raw socket anyway, and CI builds
//! from nothing on 2 cores (DESIGN §6, lean builds). It speaks just what these servers send:
//! keep-alive, responses with a `Content-Length` body.

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A response: its status code and its body as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code, like 200 or 502.
    pub status: u16,
    /// The body, as text.
    pub body: String,
}

/// One keep-alive connection to a server.
pub struct Connection {
    stream: BufReader<TcpStream>,
}

impl Connection {
    /// Connects to `addr`.
    pub async fn open(addr: SocketAddr) -> io::Result<Connection> {
        let stream = TcpStream::connect(addr).await?;
        // Requests are one small write each: without this, Nagle's algorithm can hold a
        // write back for the server's delayed ACK (40 ms), which the latencies would show.
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream: BufReader::new(stream),
        })
    }

    /// Sends a request with no body and waits for its response.
    pub async fn request(&mut self, method: &str, path: &str) -> io::Result<Response> {
        self.send(method, path).await?;
        self.response().await
    }

    /// Sends a request with no body, without waiting for the response.
    pub async fn send(&mut self, method: &str, path: &str) -> io::Result<()> {
        let request =
            format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n");
        self.stream.get_mut().write_all(request.as_bytes()).await
    }

    /// Reads the next response: its status line, its headers, its `Content-Length` body.
    /// A connection the server closed before answering is an `UnexpectedEof` error.
    pub async fn response(&mut self) -> io::Result<Response> {
        let mut line = String::new();
        if self.stream.read_line(&mut line).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| invalid(format!("bad status line {line:?}")))?;
        let mut length = 0;
        loop {
            line.clear();
            if self.stream.read_line(&mut line).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value
                    .trim()
                    .parse()
                    .map_err(|_| invalid(format!("bad header {header:?}")))?;
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await?;
        let body = String::from_utf8(body).map_err(|error| invalid(error.to_string()))?;
        Ok(Response { status, body })
    }

    /// Closes the client's side of the connection (a FIN), keeping the read side open: the
    /// server may still answer, if it allows half-closed connections.
    pub async fn close_write(&mut self) -> io::Result<()> {
        self.stream.get_mut().shutdown().await
    }

    /// Waits for the server to close the connection, and says whether it sent anything
    /// before it did (`Ok(true)`: it answered after all).
    pub async fn closed_by_server(&mut self) -> io::Result<bool> {
        let mut rest = Vec::new();
        match self.stream.read_to_end(&mut rest).await {
            Ok(_) => Ok(!rest.is_empty()),
            // The server may reset a connection it gives up on: that is closed too.
            Err(error) if error.kind() == io::ErrorKind::ConnectionReset => Ok(!rest.is_empty()),
            Err(error) => Err(error),
        }
    }

    /// Resets the connection (an RST instead of a FIN): `SO_LINGER` 0, then close, the way a
    /// crashed client or a load balancer giving up leaves.
    pub fn reset(self) -> io::Result<()> {
        self.stream.get_ref().set_zero_linger()
    }
}

/// One request on a connection of its own.
pub async fn request(addr: SocketAddr, method: &str, path: &str) -> io::Result<Response> {
    Connection::open(addr).await?.request(method, path).await
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}
