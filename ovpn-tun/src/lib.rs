//! Linux TUN and TAP devices, with their addresses and routes, for the ovpn crates.
//!
//! This is the one library crate of the workspace that talks to the operating system. A [`Device`]
//! is a TUN (layer 3, `mode=ip`) or TAP (layer 2, `mode=ethernet`) interface created by name, such
//! as RouterOS's `ovpn-incoming1` or `ovpn-out1`, with its MTU and addresses set; it disappears when
//! dropped. Devices are opened with [tun-rs](https://docs.rs/tun-rs) (creation, MTU and addresses
//! through ioctls and netlink); routes are added with the `ip` tool.
//!
//! Creating a device needs `CAP_NET_ADMIN` (root): without it the error is
//! [`TunError::NotPermitted`], which says so.
//!
//! ```no_run
//! use ovpn_tun::{Device, DeviceConfig, Layer};
//! use std::net::Ipv4Addr;
//!
//! let dev = Device::create(&DeviceConfig {
//!     name: "ovpn-incoming1".into(),
//!     layer: Layer::Tun,
//!     mtu: 1500,
//!     ipv4: Some((Ipv4Addr::new(10, 8, 0, 1), 32, Some(Ipv4Addr::new(10, 8, 0, 2)))),
//! })?;
//! let mut buf = [0u8; 65536];
//! let n = dev.recv(&mut buf)?; // an IP packet the host routed into the tunnel
//! dev.send(&buf[..n])?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, RawFd};
use std::process::Command;

/// TUN (IP packets) or TAP (Ethernet frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layer {
    /// Layer 3: IP packets (RouterOS `mode=ip`).
    #[default]
    Tun,
    /// Layer 2: Ethernet frames (RouterOS `mode=ethernet`).
    Tap,
}

/// The longest interface name Linux takes (`IFNAMSIZ` - 1, include/uapi/linux/if.h).
pub const MAX_KERNEL_NAME: usize = 15;

/// The longest alternative name (`ALTIFNAMSIZ` - 1, include/uapi/linux/if.h).
pub const MAX_NAME: usize = 127;

/// What to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceConfig {
    /// The interface name (RouterOS's, such as `ovpn-incoming150`). Up to 15 bytes it is the
    /// kernel's name; a longer one (up to 127) becomes the device's alternative name, next to a
    /// short kernel name derived from it ([`kernel_name`]), so that `ip link show NAME` works.
    pub name: String,
    /// TUN or TAP.
    pub layer: Layer,
    /// The MTU.
    pub mtu: u16,
    /// An IPv4 address with its prefix length and, for a point-to-point link, the peer's address.
    pub ipv4: Option<(Ipv4Addr, u8, Option<Ipv4Addr>)>,
}

/// Why a device could not be created or configured.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TunError {
    /// Creating or configuring interfaces needs CAP_NET_ADMIN (run as root).
    #[error("not permitted to create or configure {name}: run as root (CAP_NET_ADMIN)")]
    NotPermitted {
        /// The interface.
        name: String,
    },
    /// `/dev/net/tun` is missing (no tun module, or a container without the device).
    #[error("/dev/net/tun is missing: load the tun module or give the container the device")]
    NoTunDevice,
    /// The name is empty, too long (over 127 bytes) or contains characters Linux refuses.
    #[error("bad interface name {0:?}")]
    BadName(String),
    /// Any other system error, with what was being done.
    #[error("{what} {name}: {source}")]
    Io {
        /// What failed (`creating`, `setting the MTU of`, ...).
        what: &'static str,
        /// The interface.
        name: String,
        /// The system's error.
        source: io::Error,
    },
    /// The `ip` tool failed.
    #[error("`{command}` failed: {stderr}")]
    Command {
        /// The command line.
        command: String,
        /// What it printed.
        stderr: String,
    },
}

/// A TUN or TAP device. Reads and writes are whole packets (frames for TAP), without the 4-byte
/// packet-information header. The device is removed when this is dropped.
pub struct Device {
    dev: tun_rs::SyncDevice,
    name: String,
    kernel_name: String,
    altname_error: Option<TunError>,
    layer: Layer,
}

impl core::fmt::Debug for Device {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Device")
            .field("name", &self.name)
            .field("kernel_name", &self.kernel_name)
            .field("layer", &self.layer)
            .finish_non_exhaustive()
    }
}

fn classify(what: &'static str, name: &str, e: io::Error) -> TunError {
    match e.kind() {
        io::ErrorKind::PermissionDenied => TunError::NotPermitted { name: name.into() },
        io::ErrorKind::NotFound if !std::path::Path::new("/dev/net/tun").exists() => {
            TunError::NoTunDevice
        }
        _ => TunError::Io {
            what,
            name: name.into(),
            source: e,
        },
    }
}

/// Whether Linux accepts `name` as an interface name of at most `max` bytes
/// (net/core/dev.c `dev_valid_name`: no `/`, `:`, white space or NUL, not `.` or `..`).
fn valid_name(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name != "."
        && name != ".."
        && !name
            .bytes()
            .any(|b| b == b'/' || b == b':' || b == 0 || b.is_ascii_whitespace())
}

/// The kernel name of a device called `name`: `name` itself when it fits Linux's 15 bytes, else
/// its first 8 bytes, a dash and 6 hex digits of a hash of the whole name (`ovpn-incoming150`
/// becomes `ovpn-inc-` and six digits), so that different long names get different short ones.
pub fn kernel_name(name: &str) -> String {
    if name.len() <= MAX_KERNEL_NAME {
        return name.to_owned();
    }
    // FNV-1a, 32 bits: stable across runs and builds.
    let hash = name.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let mut head = 8;
    while !name.is_char_boundary(head) {
        head -= 1;
    }
    format!("{}-{:06x}", &name[..head], hash & 0xff_ffff)
}

impl Device {
    /// Creates the device, sets its MTU and address and brings it up. A name longer than 15
    /// bytes becomes the alternative name of a device with a short kernel name (Linux 5.5+); if
    /// the kernel refuses the alternative name, the device works under its kernel name and
    /// [`Device::altname_error`] says why.
    pub fn create(config: &DeviceConfig) -> Result<Self, TunError> {
        let name = config.name.as_str();
        if !valid_name(name, MAX_NAME) {
            return Err(TunError::BadName(name.into()));
        }
        let kernel_name = kernel_name(name);
        let mut builder = tun_rs::DeviceBuilder::new()
            .name(&kernel_name)
            .mtu(config.mtu)
            .layer(match config.layer {
                Layer::Tun => tun_rs::Layer::L3,
                Layer::Tap => tun_rs::Layer::L2,
            })
            .packet_information(false);
        if let Some((addr, prefix, peer)) = config.ipv4 {
            builder = builder.ipv4(addr, prefix, peer);
        }
        let dev = builder
            .build_sync()
            .map_err(|e| classify("creating", name, e))?;
        let altname_error = (kernel_name != name)
            .then(|| {
                ip(&[
                    "link",
                    "property",
                    "add",
                    "dev",
                    &kernel_name,
                    "altname",
                    name,
                ])
                .err()
            })
            .flatten();
        Ok(Self {
            dev,
            name: name.into(),
            kernel_name,
            altname_error,
            layer: config.layer,
        })
    }

    /// The interface name asked for (RouterOS's).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The kernel's name for the device: [`Device::name`] when it fits 15 bytes, else
    /// [`kernel_name`] of it.
    pub fn kernel_name(&self) -> &str {
        &self.kernel_name
    }

    /// Why the long name could not be set as the device's alternative name, if it could not.
    pub fn altname_error(&self) -> Option<&TunError> {
        self.altname_error.as_ref()
    }

    /// TUN or TAP.
    pub fn layer(&self) -> Layer {
        self.layer
    }

    /// Switches between blocking and non-blocking reads and writes.
    pub fn set_nonblocking(&self, nonblocking: bool) -> Result<(), TunError> {
        self.dev
            .set_nonblocking(nonblocking)
            .map_err(|e| classify("setting non-blocking mode on", &self.name, e))
    }

    /// Reads one packet (or frame) into `buf`; `WouldBlock` when non-blocking and none is waiting.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.dev.recv(buf)
    }

    /// Writes one packet (or frame).
    pub fn send(&self, packet: &[u8]) -> io::Result<usize> {
        self.dev.send(packet)
    }

    /// Changes the MTU.
    pub fn set_mtu(&self, mtu: u16) -> Result<(), TunError> {
        self.dev
            .set_mtu(mtu)
            .map_err(|e| classify("setting the MTU of", &self.name, e))
    }

    /// Adds (or replaces) a route to `network/prefix` through this device, via `gateway` if given.
    pub fn add_route(
        &self,
        network: Ipv4Addr,
        prefix: u8,
        gateway: Option<Ipv4Addr>,
    ) -> Result<(), TunError> {
        let dst = format!("{network}/{prefix}");
        let mut args = vec![
            "route",
            "replace",
            dst.as_str(),
            "dev",
            self.kernel_name.as_str(),
        ];
        let gw = gateway.map(|g| g.to_string());
        if let Some(g) = &gw {
            args.extend(["via", g.as_str()]);
        }
        ip(&args)
    }
}

impl Device {
    /// Adds (or replaces) an IPv6 address with its prefix length, without duplicate address
    /// detection (the tunnel has no other station to collide with).
    pub fn add_address6(&self, address: Ipv6Addr, prefix: u8) -> Result<(), TunError> {
        let a = format!("{address}/{prefix}");
        ip(&[
            "-6",
            "addr",
            "replace",
            &a,
            "dev",
            &self.kernel_name,
            "nodad",
        ])
    }

    /// Adds (or replaces) a route to the IPv6 `network/prefix` through this device.
    pub fn add_route6(&self, network: Ipv6Addr, prefix: u8) -> Result<(), TunError> {
        let n = format!("{network}/{prefix}");
        ip(&["-6", "route", "replace", &n, "dev", &self.kernel_name])
    }
}

/// How a TAP device joins a Linux bridge as a port (a PPP profile's `bridge=` and `bridge-*`
/// settings, mapped to `ip link set ... type bridge_slave`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BridgePort {
    /// The bridge (it must exist).
    pub bridge: String,
    /// Whether the bridge learns MAC addresses on the port (None: the bridge's default, on).
    pub learning: Option<bool>,
    /// The port's STP path cost.
    pub cost: Option<u32>,
    /// The port's STP priority in Linux's range, 0..63 (RouterOS's 0..240 divided by 4: the
    /// same bits of the port identifier).
    pub priority: Option<u8>,
    /// An isolated port forwards only to ports that are not isolated (RouterOS's
    /// `bridge-horizon`, for one horizon value).
    pub isolated: bool,
}

impl Device {
    /// Makes the device a port of `port.bridge`, with the port settings given.
    pub fn join_bridge(&self, port: &BridgePort) -> Result<(), TunError> {
        let dev = self.kernel_name.as_str();
        ip(&["link", "set", "dev", dev, "master", &port.bridge])?;
        let mut args = vec![
            "link".to_owned(),
            "set".into(),
            "dev".into(),
            dev.into(),
            "type".into(),
            "bridge_slave".into(),
        ];
        let on_off = |b: bool| if b { "on" } else { "off" }.to_owned();
        if let Some(l) = port.learning {
            args.extend(["learning".into(), on_off(l)]);
        }
        if let Some(c) = port.cost {
            args.extend(["cost".into(), c.to_string()]);
        }
        if let Some(p) = port.priority {
            args.extend(["priority".into(), p.to_string()]);
        }
        if port.isolated {
            args.extend(["isolated".into(), "on".into()]);
        }
        if args.len() > 6 {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            ip(&args)?;
        }
        Ok(())
    }
}

impl AsRawFd for Device {
    fn as_raw_fd(&self) -> RawFd {
        self.dev.as_raw_fd()
    }
}

/// Runs `ip ARGS...`, turning a failure into [`TunError::Command`].
pub fn ip(args: &[&str]) -> Result<(), TunError> {
    let command = format!("ip {}", args.join(" "));
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| TunError::Command {
            command: command.clone(),
            stderr: e.to_string(),
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(TunError::Command {
            command,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_root() -> bool {
        std::fs::read_to_string("/proc/self/status")
            .map(|s| {
                s.lines()
                    .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
            })
            .unwrap_or(false)
    }

    #[test]
    fn long_names_get_short_distinct_kernel_names() {
        assert_eq!(kernel_name("ovpn-incoming99"), "ovpn-incoming99");
        let a = kernel_name("ovpn-incoming100");
        let b = kernel_name("ovpn-incoming101");
        assert!(a.starts_with("ovpn-inc-") && a.len() == 15, "{a}");
        assert_ne!(a, b);
        assert_eq!(a, kernel_name("ovpn-incoming100"), "stable");
        assert!(valid_name(&a, MAX_KERNEL_NAME));
        // Distinct for every session number a server can have at once (PeerId is 24 bits; a
        // thousand here).
        let names: std::collections::BTreeSet<String> = (100..1100)
            .map(|n| kernel_name(&format!("ovpn-incoming{n}")))
            .collect();
        assert_eq!(names.len(), 1000);
        // Multi-byte characters are not cut in half.
        let k = kernel_name("ééééééééééééé");
        assert!(k.len() <= MAX_KERNEL_NAME, "{k}");
    }

    #[test]
    fn bad_names_are_refused_before_any_system_call() {
        let long = "x".repeat(MAX_NAME + 1);
        for name in ["", long.as_str(), "a/b", "a b", "a:b", ".."] {
            let e = Device::create(&DeviceConfig {
                name: name.into(),
                layer: Layer::Tun,
                mtu: 1500,
                ipv4: None,
            })
            .unwrap_err();
            assert!(matches!(e, TunError::BadName(_)), "{name}: {e}");
        }
    }

    /// Set in the copy of the test binary that runs inside the test's private namespace.
    const IN_NAMESPACE: &str = "OVPN_TUN_TEST_IN_NAMESPACE";

    #[test]
    #[ignore = "needs root and /dev/net/tun: scripts/test.sh runs it with --include-ignored"]
    fn tun_device_gets_its_address_mtu_and_route_and_goes_away() {
        if std::env::var_os(IN_NAMESPACE).is_some() {
            in_namespace();
            return;
        }
        assert!(
            is_root() && std::path::Path::new("/dev/net/tun").exists(),
            "this test needs root and /dev/net/tun"
        );
        // A private namespace keeps the host's interfaces and routes untouched: the test binary
        // runs this test again in there.
        let ns = format!("ovpntun{}", std::process::id());
        ip(&["netns", "add", &ns]).unwrap();
        let out = Command::new("ip")
            .args(["netns", "exec", &ns])
            .arg(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "tests::tun_device_gets_its_address_mtu_and_route_and_goes_away",
                "--include-ignored",
                "--nocapture",
            ])
            .env(IN_NAMESPACE, "1")
            .output()
            .unwrap();
        let _ = ip(&["netns", "del", &ns]);
        let log = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{log}");
        assert!(log.contains("1 passed"), "{log}");
    }

    /// The test proper, inside the namespace.
    fn in_namespace() {
        let dev = Device::create(&DeviceConfig {
            name: "ovpn-test1".into(),
            layer: Layer::Tun,
            mtu: 1400,
            ipv4: Some((
                Ipv4Addr::new(10, 99, 0, 1),
                32,
                Some(Ipv4Addr::new(10, 99, 0, 2)),
            )),
        })
        .unwrap();
        dev.add_route(Ipv4Addr::new(192, 168, 77, 0), 24, None)
            .unwrap();
        let show = |args: &[&str]| {
            String::from_utf8(Command::new("ip").args(args).output().unwrap().stdout).unwrap()
        };
        let link = show(&["link", "show", "ovpn-test1"]);
        assert!(link.contains("mtu 1400"), "{link}");
        let addr = show(&["addr", "show", "ovpn-test1"]);
        assert!(addr.contains("10.99.0.1 peer 10.99.0.2"), "{addr}");
        let routes = show(&["route"]);
        assert!(
            routes.contains("192.168.77.0/24 dev ovpn-test1"),
            "{routes}"
        );

        // A packet the kernel routes into the device comes out of recv: ping the peer.
        dev.set_nonblocking(false).unwrap();
        let mut ping = Command::new("ping")
            .args(["-c", "1", "-W", "1", "10.99.0.2"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut buf = [0u8; 2048];
        // The kernel may send IPv6 router solicitations first; skip them.
        let n = loop {
            let n = dev.recv(&mut buf).unwrap();
            if buf[0] >> 4 == 4 {
                break n;
            }
        };
        assert_eq!(&buf[16..20], &[10, 99, 0, 2], "to the peer");
        assert_eq!(buf[9], 1, "ICMP");
        assert!(n >= 28);
        let _ = ping.wait();

        drop(dev);
        let after = show(&["link", "show"]);
        assert!(!after.contains("ovpn-test1"), "{after}");

        // TAP (mode=ethernet): an Ethernet device with a MAC address.
        let tap = Device::create(&DeviceConfig {
            name: "ovpn-tap1".into(),
            layer: Layer::Tap,
            mtu: 1500,
            ipv4: Some((Ipv4Addr::new(10, 98, 0, 1), 24, None)),
        })
        .unwrap();
        assert_eq!(tap.layer(), Layer::Tap);
        let link = show(&["link", "show", "ovpn-tap1"]);
        assert!(link.contains("link/ether"), "{link}");
        drop(tap);

        // A RouterOS name over 15 bytes: a short kernel name, the long one as its altname.
        let long = Device::create(&DeviceConfig {
            name: "ovpn-incoming150".into(),
            layer: Layer::Tun,
            mtu: 1500,
            ipv4: Some((
                Ipv4Addr::new(10, 97, 0, 1),
                32,
                Some(Ipv4Addr::new(10, 97, 0, 2)),
            )),
        })
        .unwrap();
        assert!(long.altname_error().is_none(), "{:?}", long.altname_error());
        assert_eq!(long.name(), "ovpn-incoming150");
        assert_eq!(long.kernel_name(), kernel_name("ovpn-incoming150"));
        let link = show(&["link", "show", "ovpn-incoming150"]);
        assert!(link.contains(long.kernel_name()), "{link}");
        assert!(link.contains("altname ovpn-incoming150"), "{link}");
        long.add_route(Ipv4Addr::new(192, 168, 78, 0), 24, None)
            .unwrap();
        let routes = show(&["route"]);
        assert!(routes.contains("192.168.78.0/24 dev ovpn-inc-"), "{routes}");
        // IPv6 inside the tunnel: an address and a route.
        long.add_address6("fd00:97::1".parse().unwrap(), 128)
            .unwrap();
        long.add_route6("fd00:97::2".parse().unwrap(), 128).unwrap();
        let addrs = show(&["-6", "addr", "show", "dev", long.kernel_name()]);
        assert!(addrs.contains("fd00:97::1/128"), "{addrs}");
        let routes6 = show(&["-6", "route", "show", "dev", long.kernel_name()]);
        assert!(routes6.contains("fd00:97::2"), "{routes6}");
        drop(long);

        // A TAP device as a bridge port, with port settings.
        ip(&["link", "add", "ovpn-test-br", "type", "bridge"]).unwrap();
        let port = Device::create(&DeviceConfig {
            name: "ovpn-tap2".into(),
            layer: Layer::Tap,
            mtu: 1500,
            ipv4: None,
        })
        .unwrap();
        let joined = port.join_bridge(&BridgePort {
            bridge: "ovpn-test-br".into(),
            learning: Some(false),
            cost: Some(20),
            priority: Some(16),
            isolated: true,
        });
        let detail = show(&["-d", "link", "show", "ovpn-tap2"]);
        drop(port);
        let _ = ip(&["link", "del", "ovpn-test-br"]);
        joined.unwrap();
        assert!(detail.contains("master ovpn-test-br"), "{detail}");
        for want in ["priority 16 cost 20", "learning off", "isolated on"] {
            assert!(detail.contains(want), "{want}: {detail}");
        }
    }
}
