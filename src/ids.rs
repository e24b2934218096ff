//! Identifiers shared by every layer (frame numbers, flow ids, directions); it holds no state.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU64;

use serde::{Serialize, Serializer};

/// The 1-based number of a frame in its capture, counted exactly as Wireshark's
/// `frame.number`: every packet record, and every pcapng record Wireshark shows as a
/// frame (custom and systemd-journal blocks), in file order.
///
/// A user can type `frame.number == N` in Wireshark to find the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FrameNumber(NonZeroU64);

impl FrameNumber {
    /// The first frame of a capture.
    pub const FIRST: FrameNumber = FrameNumber(NonZeroU64::MIN);

    /// Builds a frame number from its 1-based value; `None` for 0.
    pub fn new(number: u64) -> Option<FrameNumber> {
        NonZeroU64::new(number).map(FrameNumber)
    }

    /// The 1-based value.
    pub fn get(self) -> u64 {
        self.0.get()
    }

    /// The frame after this one (saturating at `u64::MAX`).
    pub fn next(self) -> FrameNumber {
        FrameNumber(self.0.saturating_add(1))
    }
}

impl fmt::Display for FrameNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for FrameNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.get())
    }
}

/// Identifies a flow within one capture, deterministically: the frame number of the flow's
/// first packet, plus the tunnel depth for flows carried inside a tunnel in that same frame.
///
/// Displayed as `123` (outer flow starting at frame 123) or `123.1` (the flow inside the
/// first tunnel layer of frame 123).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlowId {
    /// The frame that created the flow.
    pub first_frame: FrameNumber,
    /// 0 for the outermost packet, 1 for the first tunnel layer, and so on.
    pub depth: u8,
}

impl fmt::Display for FlowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.depth == 0 {
            write!(f, "{}", self.first_frame)
        } else {
            write!(f, "{}.{}", self.first_frame, self.depth)
        }
    }
}

impl std::str::FromStr for FlowId {
    type Err = String;

    /// Parses `123` or `123.1`, as flow ids are displayed.
    fn from_str(s: &str) -> Result<FlowId, String> {
        let bad = || {
            format!("`{s}` is not a flow id: give the number `tamper flows` lists in its id column, like 12 or 12.1")
        };
        let (frame, depth) = match s.split_once('.') {
            Some((f, d)) => (f, d.parse::<u8>().map_err(|_| bad())?),
            None => (s, 0),
        };
        let frame = frame
            .parse::<u64>()
            .ok()
            .and_then(FrameNumber::new)
            .ok_or_else(bad)?;
        Ok(FlowId {
            first_frame: frame,
            depth,
        })
    }
}

impl Serialize for FlowId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Which way a packet travels within its flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the endpoint that opened the flow to the one that answered.
    ClientToServer,
    /// From the answering endpoint back to the opener.
    ServerToClient,
}

impl Direction {
    /// The opposite direction.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ClientToServer => Direction::ServerToClient,
            Direction::ServerToClient => Direction::ClientToServer,
        }
    }

    /// 0 for client-to-server, 1 for server-to-client: an index into per-direction arrays.
    pub fn index(self) -> usize {
        match self {
            Direction::ClientToServer => 0,
            Direction::ServerToClient => 1,
        }
    }

    /// Short arrow form used in tables: `c>s` or `s>c`.
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::ClientToServer => "c>s",
            Direction::ServerToClient => "s>c",
        }
    }

    /// Words for reports: `client → server` or `server → client`.
    pub fn words(self) -> &'static str {
        match self {
            Direction::ClientToServer => "client → server",
            Direction::ServerToClient => "server → client",
        }
    }

    /// Who sent a packet travelling this way.
    pub fn sender(self) -> Role {
        match self {
            Direction::ClientToServer => Role::Client,
            Direction::ServerToClient => Role::Server,
        }
    }
}

/// One of the two endpoints of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The endpoint that opened the flow.
    Client,
    /// The endpoint that answered.
    Server,
}

impl Role {
    /// The direction of packets this endpoint sends.
    pub fn sends(self) -> Direction {
        match self {
            Role::Client => Direction::ClientToServer,
            Role::Server => Direction::ServerToClient,
        }
    }

    /// The other endpoint.
    pub fn peer(self) -> Role {
        match self {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        }
    }

    /// `client` or `server`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Server => "server",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Transport protocol of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum L4Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl L4Proto {
    /// `tcp` or `udp`.
    pub fn as_str(self) -> &'static str {
        match self {
            L4Proto::Tcp => "tcp",
            L4Proto::Udp => "udp",
        }
    }
}

impl fmt::Display for L4Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An address and port: displayed `1.2.3.4:443` or `[2001:db8::1]:443`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Endpoint {
    /// IP address.
    pub addr: IpAddr,
    /// Port.
    pub port: u16,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", SocketAddr::new(self.addr, self.port))
    }
}

impl Serialize for Endpoint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_numbers_are_one_based() {
        assert!(FrameNumber::new(0).is_none());
        assert_eq!(FrameNumber::FIRST.get(), 1);
        assert_eq!(FrameNumber::FIRST.next().get(), 2);
    }

    #[test]
    fn flow_id_display() {
        let f = FrameNumber::new(42).unwrap();
        assert_eq!(
            FlowId {
                first_frame: f,
                depth: 0
            }
            .to_string(),
            "42"
        );
        assert_eq!(
            FlowId {
                first_frame: f,
                depth: 2
            }
            .to_string(),
            "42.2"
        );
    }

    #[test]
    fn directions_and_roles_agree() {
        for d in [Direction::ClientToServer, Direction::ServerToClient] {
            assert_eq!(d.sender().sends(), d);
            assert_eq!(d.reverse().reverse(), d);
            assert_ne!(d.index(), d.reverse().index());
        }
    }
}
