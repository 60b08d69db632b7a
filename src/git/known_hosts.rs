//! SSH host key verification against OpenSSH known_hosts files. libgit2 either checks nothing
//! or only `$HOME/.ssh/known_hosts` depending on build, and replaces a callback's error with a
//! generic text, so fgd checks the key itself and keeps its own message for the operator.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyVerdict {
    Known,
    /// The host is not in any known_hosts file.
    Unknown,
    /// The host is known with a different key of this type: possible man-in-the-middle.
    Changed {
        file: PathBuf,
        line: usize,
    },
    /// Marked @revoked.
    Revoked {
        file: PathBuf,
        line: usize,
    },
}

/// `SHA256:<base64, no padding>`, as `ssh-keygen -l` prints it.
pub fn fingerprint(key_blob: &[u8]) -> String {
    let digest = Sha256::digest(key_blob);
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
    )
}

/// The name known_hosts uses for a host: `host`, or `[host]:port` off port 22.
pub fn host_pattern(host: &str, port: Option<u16>) -> String {
    match port {
        Some(p) if p != 22 => format!("[{host}]:{p}"),
        _ => host.to_string(),
    }
}

/// The key type named inside an SSH public key blob (its first length-prefixed string).
pub fn blob_key_type(blob: &[u8]) -> Option<String> {
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    String::from_utf8(blob.get(4..4 + len)?.to_vec()).ok()
}

/// Whether `hash` is HMAC-SHA1(`salt`, `name`): a hashed known_hosts entry (`|1|salt|hash`).
fn hashed_name_matches(salt: &[u8], hash: &[u8], name: &str) -> bool {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(salt) else {
        return false;
    };
    mac.update(name.as_bytes());
    mac.verify_slice(hash).is_ok()
}

/// OpenSSH wildcard match: `*` any run, `?` one character.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

fn hosts_match(field: &str, name: &str) -> bool {
    if let Some(hashed) = field.strip_prefix("|1|") {
        let Some((salt, hash)) = hashed.split_once('|') else {
            return false;
        };
        let b64 = base64::engine::general_purpose::STANDARD;
        let (Ok(salt), Ok(hash)) = (b64.decode(salt), b64.decode(hash)) else {
            return false;
        };
        return hashed_name_matches(&salt, &hash, name);
    }
    let mut matched = false;
    // OpenSSH lowercases host patterns (and the host name, see `check`).
    let field = field.to_ascii_lowercase();
    for pat in field.split(',') {
        if let Some(neg) = pat.strip_prefix('!') {
            if glob(neg, name) {
                return false;
            }
        } else if glob(pat, name) {
            matched = true;
        }
    }
    matched
}

/// The files fgd reads, in order: `extra` (fgd's config), the user's, the system's.
pub fn default_files(extra: Option<&Path>) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = extra.map(Path::to_path_buf).into_iter().collect();
    if let Some(home) = std::env::var_os("HOME") {
        v.push(PathBuf::from(home).join(".ssh/known_hosts"));
    }
    v.push(PathBuf::from("/etc/ssh/ssh_known_hosts"));
    v
}

/// Check `key_blob` (the raw public key the server presented) for `name` (see `host_pattern`).
/// Every line of every file is read before a key is accepted: as in OpenSSH, a revocation
/// wins wherever it stands, also below or in another file than a line that trusts the key.
pub fn check(files: &[PathBuf], name: &str, key_blob: &[u8]) -> HostKeyVerdict {
    // As ssh does before it looks a host up: `Git.Example.ORG` is `git.example.org`, in plain
    // and hashed entries alike.
    let name = &name.to_ascii_lowercase();
    let key_type = blob_key_type(key_blob).unwrap_or_default();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut known = false;
    let mut changed = None;
    for file in files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut fields = line.split_whitespace();
            let mut first = fields.next().unwrap_or_default();
            let marker = if first.starts_with('@') {
                let m = first;
                first = fields.next().unwrap_or_default();
                Some(m)
            } else {
                None
            };
            let (Some(ktype), Some(kdata)) = (fields.next(), fields.next()) else {
                continue;
            };
            if marker == Some("@cert-authority") || !hosts_match(first, name) {
                continue;
            }
            let same_key = b64.decode(kdata).map(|k| k == key_blob).unwrap_or(false);
            if marker == Some("@revoked") {
                if same_key {
                    return HostKeyVerdict::Revoked {
                        file: file.clone(),
                        line: i + 1,
                    };
                }
                continue;
            }
            if same_key {
                known = true;
            } else if ktype == key_type && changed.is_none() {
                changed = Some(HostKeyVerdict::Changed {
                    file: file.clone(),
                    line: i + 1,
                });
            }
        }
    }
    if known {
        return HostKeyVerdict::Known;
    }
    changed.unwrap_or(HostKeyVerdict::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(kind: &str, body: &[u8]) -> Vec<u8> {
        let mut v = (kind.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind.as_bytes());
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn known_unknown_changed_and_revoked() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("known_hosts");
        let b64 = base64::engine::general_purpose::STANDARD;
        let good = blob("ssh-ed25519", b"good-key");
        let other = blob("ssh-ed25519", b"other-key");
        let revoked = blob("ssh-rsa", b"old");
        std::fs::write(
            &f,
            format!(
                "# comment\n[127.0.0.1]:2222 ssh-ed25519 {}\n@revoked * ssh-rsa {}\n*.example.org,!bad.example.org ssh-ed25519 {}\n",
                b64.encode(&good),
                b64.encode(&revoked),
                b64.encode(&good)
            ),
        )
        .unwrap();
        let files = vec![f.clone()];
        assert_eq!(
            check(&files, &host_pattern("127.0.0.1", Some(2222)), &good),
            HostKeyVerdict::Known
        );
        assert_eq!(
            check(&files, &host_pattern("127.0.0.1", Some(2223)), &good),
            HostKeyVerdict::Unknown
        );
        assert_eq!(
            check(&files, "[127.0.0.1]:2222", &other),
            HostKeyVerdict::Changed {
                file: f.clone(),
                line: 2
            }
        );
        assert_eq!(
            check(&files, "git.example.org", &good),
            HostKeyVerdict::Known
        );
        assert_eq!(
            check(&files, "bad.example.org", &good),
            HostKeyVerdict::Unknown
        );
        assert!(matches!(
            check(&files, "x", &revoked),
            HostKeyVerdict::Revoked { .. }
        ));
    }

    #[test]
    fn a_revocation_wins_below_or_in_another_file_than_the_line_that_trusts_the_key() {
        let t = tempfile::tempdir().unwrap();
        let b64 = base64::engine::general_purpose::STANDARD;
        let key = b64.encode(blob("ssh-ed25519", b"stolen"));
        let (trusts, revokes) = (t.path().join("trusts"), t.path().join("revokes"));
        std::fs::write(&trusts, format!("git.example.org ssh-ed25519 {key}\n")).unwrap();
        std::fs::write(
            &revokes,
            format!("git.example.org ssh-ed25519 {key}\n@revoked * ssh-ed25519 {key}\n"),
        )
        .unwrap();
        let presented = blob("ssh-ed25519", b"stolen");
        for files in [vec![revokes.clone()], vec![trusts.clone(), revokes.clone()]] {
            assert_eq!(
                check(&files, "git.example.org", &presented),
                HostKeyVerdict::Revoked {
                    file: revokes.clone(),
                    line: 2
                }
            );
        }
        assert_eq!(
            check(&[trusts], "git.example.org", &presented),
            HostKeyVerdict::Known
        );
    }

    fn hashed(salt: &[u8], name: &str) -> String {
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut mac = Hmac::<Sha1>::new_from_slice(salt).unwrap();
        mac.update(name.as_bytes());
        format!(
            "|1|{}|{}",
            b64.encode(salt),
            b64.encode(mac.finalize().into_bytes())
        )
    }

    #[test]
    fn hashed_hosts_match_by_hmac() {
        let entry = hashed(b"0123456789abcdefghij", "[10.0.0.1]:2200");
        assert!(hosts_match(&entry, "[10.0.0.1]:2200"));
        assert!(!hosts_match(&entry, "10.0.0.1"));
        // ssh-keygen -H output for a known salt and host (RFC 2202 test key, "Hi There").
        let b64 = base64::engine::general_purpose::STANDARD;
        let hash = b64.encode(
            (0..20)
                .map(|i| {
                    u8::from_str_radix(
                        &"b617318655057264e28bc0b6fb378c8ef146be00"[i * 2..i * 2 + 2],
                        16,
                    )
                    .unwrap()
                })
                .collect::<Vec<u8>>(),
        );
        assert!(hosts_match(
            &format!("|1|{}|{hash}", b64.encode([0x0b; 20])),
            "Hi There"
        ));
    }

    #[test]
    fn host_names_match_whatever_their_case_as_in_openssh() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("known_hosts");
        let b64 = base64::engine::general_purpose::STANDARD;
        let key = blob("ssh-ed25519", b"k");
        std::fs::write(
            &f,
            format!(
                "Git.Example.ORG ssh-ed25519 {k}\n*.LAB.example.net ssh-ed25519 {k}\n{} ssh-ed25519 {k}\n",
                hashed(b"salt-salt-salt-salt-", "[hashed.example.com]:2222"),
                k = b64.encode(&key)
            ),
        )
        .unwrap();
        let files = vec![f];
        for name in [
            "git.example.org",
            "GIT.EXAMPLE.ORG",
            "sw1.lab.example.net",
            "[Hashed.Example.COM]:2222",
        ] {
            assert_eq!(check(&files, name, &key), HostKeyVerdict::Known, "{name}");
        }
    }

    #[test]
    fn fingerprints_are_unpadded_sha256() {
        let fp = fingerprint(b"abc");
        assert!(fp.starts_with("SHA256:") && !fp.ends_with('='));
        assert_eq!(fp, "SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0");
    }
}
