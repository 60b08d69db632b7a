//! Credentials as git users expect them, each method tried at most once per operation: libgit2
//! otherwise replays a rejected credential up to 15 times. Tokens never appear in URLs, logs or
//! errors: only the names of the methods tried do.

use std::path::PathBuf;

use git2::{Cred, CredentialType};

/// Where credentials may come from (fgd's config and environment).
#[derive(Debug, Clone, Default)]
pub struct AuthConfig {
    /// A key file to try before the default ones.
    pub ssh_key: Option<PathBuf>,
    /// Environment variable holding an HTTPS token.
    pub token_env: String,
    /// Environment variable holding the HTTPS user name for the token.
    pub user_env: String,
}

impl AuthConfig {
    pub fn from_env() -> AuthConfig {
        AuthConfig {
            ssh_key: std::env::var_os("FGD_SSH_KEY").map(PathBuf::from),
            token_env: "FGD_GIT_TOKEN".into(),
            user_env: "FGD_GIT_USER".into(),
        }
    }
}

/// One operation's credential attempts.
pub struct Auth {
    cfg: AuthConfig,
    /// The remote URL carries a user name and password, which libgit2 offers before asking us.
    url_password: bool,
    url_password_noted: bool,
    agent_tried: bool,
    keys: Option<Vec<(PathBuf, bool)>>,
    token_tried: bool,
    helper_tried: bool,
    /// What was offered, in order, and why each failed, for the final error.
    pub tried: Vec<String>,
    /// The entry of `tried` offered last: libgit2 asking again means the server refused it.
    offered: Option<usize>,
    /// True once every method is used up.
    pub exhausted: bool,
    /// The repository's config (layered over the global and system ones), where git finds
    /// credential helpers; without it, only the global and system ones are read.
    config: Option<git2::Config>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("cfg", &self.cfg)
            .field("tried", &self.tried)
            .field("exhausted", &self.exhausted)
            .finish_non_exhaustive()
    }
}

const REFUSED: &str = " (refused by the server)";

impl Auth {
    pub fn new(cfg: AuthConfig) -> Auth {
        Auth {
            cfg,
            url_password: false,
            url_password_noted: false,
            agent_tried: false,
            keys: None,
            token_tried: false,
            helper_tried: false,
            tried: Vec::new(),
            offered: None,
            exhausted: false,
            config: None,
        }
    }

    /// Read credential helpers from `repo`'s config, as git does (a helper set in the
    /// repository's own config included).
    pub fn with_repository(mut self, repo: &git2::Repository) -> Auth {
        self.config = repo.config().ok();
        self
    }

    /// The remote URL holds `user:password@`: libgit2 uses it first, unasked.
    pub fn with_url_password(mut self, present: bool) -> Auth {
        self.url_password = present;
        self
    }

    /// The key files to try, in order; true for the one the operator named.
    fn key_candidates(&self) -> Vec<(PathBuf, bool)> {
        let mut v: Vec<(PathBuf, bool)> =
            self.cfg.ssh_key.iter().map(|k| (k.clone(), true)).collect();
        if let Some(home) = std::env::var_os("HOME") {
            let ssh = PathBuf::from(home).join(".ssh");
            for k in ["id_ed25519", "id_ecdsa", "id_rsa"] {
                let path = ssh.join(k);
                if !v.iter().any(|(p, _)| *p == path) {
                    v.push((path, false));
                }
            }
        }
        v
    }

    /// Offer `cred`, noting `what` as tried.
    fn offer(
        &mut self,
        what: String,
        cred: Result<Cred, git2::Error>,
    ) -> Result<Cred, git2::Error> {
        self.tried.push(what);
        self.offered = Some(self.tried.len() - 1);
        cred
    }

    /// The operation failed on authentication: the credential offered last was refused too.
    pub fn failed(&mut self) {
        if let Some(i) = self.offered.take() {
            self.tried[i].push_str(REFUSED);
        }
    }

    pub fn credentials(
        &mut self,
        url: &str,
        user_from_url: Option<&str>,
        allowed: CredentialType,
    ) -> Result<Cred, git2::Error> {
        let user = user_from_url.unwrap_or("git");
        if allowed.contains(CredentialType::USERNAME) {
            return Cred::username(user);
        }
        // Asked again: whatever was offered last did not get in.
        self.failed();
        if self.url_password && !self.url_password_noted {
            self.url_password_noted = true;
            self.tried.push(format!(
                "the user name and password in the remote URL{REFUSED}"
            ));
        }
        if allowed.contains(CredentialType::SSH_KEY) {
            if !self.agent_tried {
                self.agent_tried = true;
                if std::env::var_os("SSH_AUTH_SOCK").is_some() {
                    return self.offer("ssh-agent".into(), Cred::ssh_key_from_agent(user));
                }
                self.tried
                    .push("ssh-agent (SSH_AUTH_SOCK is not set)".into());
            }
            if self.keys.is_none() {
                self.keys = Some(self.key_candidates());
                if std::env::var_os("HOME").is_none() {
                    self.tried
                        .push("the default keys ~/.ssh/id_* (HOME is not set)".into());
                }
            }
            while let Some((key, named)) = self.keys.as_mut().and_then(|k| {
                if k.is_empty() {
                    None
                } else {
                    Some(k.remove(0))
                }
            }) {
                let origin = if named {
                    "FGD_SSH_KEY or --ssh-key: "
                } else {
                    ""
                };
                match std::fs::metadata(&key) {
                    Ok(m) if m.is_file() => {
                        // libgit2 says only "Unsupported private key format" for a key it
                        // cannot open without its passphrase: fgd looks first, and uses
                        // FGD_SSH_KEY_PASSPHRASE when it is set.
                        let passphrase = std::env::var("FGD_SSH_KEY_PASSPHRASE")
                            .ok()
                            .filter(|p| !p.is_empty());
                        let protected = std::fs::read(&key)
                            .map(|b| key_is_encrypted(&b))
                            .unwrap_or(false);
                        if protected && passphrase.is_none() {
                            self.tried.push(format!(
                                "key {} ({origin}protected by a passphrase: add it to ssh-agent, or set FGD_SSH_KEY_PASSPHRASE)",
                                key.display()
                            ));
                            continue;
                        }
                        let cred = Cred::ssh_key(user, None, &key, passphrase.as_deref());
                        return self.offer(format!("key {}", key.display()), cred);
                    }
                    Ok(_) => self
                        .tried
                        .push(format!("key {} ({origin}not a file)", key.display())),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => self
                        .tried
                        .push(format!("key {} ({origin}no such file)", key.display())),
                    Err(e) => self.tried.push(format!(
                        "key {} ({origin}cannot read it: {e})",
                        key.display()
                    )),
                }
            }
        }
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            if !self.token_tried {
                self.token_tried = true;
                match std::env::var(&self.cfg.token_env) {
                    Ok(token) if !token.is_empty() => {
                        let name = std::env::var(&self.cfg.user_env)
                            .ok()
                            .filter(|u| !u.is_empty());
                        let (name, whose) = match name {
                            Some(n) => (n, format!("user from ${}", self.cfg.user_env)),
                            None => (
                                user_from_url.unwrap_or("git").to_string(),
                                if user_from_url.is_some() {
                                    "user from the URL".to_string()
                                } else {
                                    "user git".to_string()
                                },
                            ),
                        };
                        let cred = Cred::userpass_plaintext(&name, &token);
                        return self
                            .offer(format!("token from ${}, {whose}", self.cfg.token_env), cred);
                    }
                    _ => self
                        .tried
                        .push(format!("token (${} is not set)", self.cfg.token_env)),
                }
            }
            if !self.helper_tried {
                self.helper_tried = true;
                let config = match self.config.take() {
                    Some(c) => Some(c),
                    None => git2::Config::open_default().ok(),
                };
                if let Some(config) = config {
                    if let Ok(cred) = Cred::credential_helper(&config, url, user_from_url) {
                        return self.offer("git credential helper".into(), Ok(cred));
                    }
                }
                self.tried
                    .push("git credential helper (none answered)".into());
            }
        }
        self.exhausted = true;
        Err(git2::Error::from_str("fgd: no more credentials to try"))
    }
}

/// Whether an SSH private key file is protected by a passphrase: an OpenSSH key whose cipher
/// is not `none`, or a PEM key marked encrypted.
pub fn key_is_encrypted(file: &[u8]) -> bool {
    use base64::Engine as _;
    let text = String::from_utf8_lossy(file);
    if text.contains("ENCRYPTED") {
        return true; // PEM: "Proc-Type: 4,ENCRYPTED" or "BEGIN ENCRYPTED PRIVATE KEY"
    }
    let Some(body) = text
        .split("-----BEGIN OPENSSH PRIVATE KEY-----")
        .nth(1)
        .and_then(|b| b.split("-----END").next())
    else {
        return false;
    };
    let b64: String = body.split_whitespace().collect();
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64) else {
        return false;
    };
    // "openssh-key-v1\0", then the cipher's name as a length-prefixed string.
    let Some(rest) = bytes.strip_prefix(b"openssh-key-v1\0") else {
        return false;
    };
    let Some(len) = rest
        .get(..4)
        .map(|l| u32::from_be_bytes([l[0], l[1], l[2], l[3]]) as usize)
    else {
        return false;
    };
    rest.get(4..4 + len).is_some_and(|cipher| cipher != b"none")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_method_is_offered_once_then_it_gives_up() {
        let cfg = AuthConfig {
            ssh_key: None,
            token_env: "FGD_TEST_NO_SUCH_TOKEN".into(),
            user_env: "FGD_TEST_NO_SUCH_USER".into(),
        };
        let mut a = Auth::new(cfg);
        let mut n = 0;
        while a
            .credentials(
                "https://127.0.0.1/x.git",
                None,
                CredentialType::USER_PASS_PLAINTEXT,
            )
            .is_ok()
        {
            n += 1;
            assert!(n < 3, "offered too often: {:?}", a.tried);
        }
        assert!(a.exhausted);
        assert!(a.tried.iter().any(|t| t.contains("FGD_TEST_NO_SUCH_TOKEN")));
        assert!(a
            .credentials("https://x", None, CredentialType::USER_PASS_PLAINTEXT)
            .is_err());
    }
}
