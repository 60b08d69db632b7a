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
#[derive(Debug)]
pub struct Auth {
    cfg: AuthConfig,
    agent_tried: bool,
    keys: Option<Vec<PathBuf>>,
    token_tried: bool,
    helper_tried: bool,
    /// What was offered, in order, for the final error.
    pub tried: Vec<String>,
    /// True once every method is used up.
    pub exhausted: bool,
}

impl Auth {
    pub fn new(cfg: AuthConfig) -> Auth {
        Auth {
            cfg,
            agent_tried: false,
            keys: None,
            token_tried: false,
            helper_tried: false,
            tried: Vec::new(),
            exhausted: false,
        }
    }

    fn key_candidates(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self.cfg.ssh_key.iter().cloned().collect();
        if let Some(home) = std::env::var_os("HOME") {
            let ssh = PathBuf::from(home).join(".ssh");
            for k in ["id_ed25519", "id_ecdsa", "id_rsa"] {
                v.push(ssh.join(k));
            }
        }
        v.dedup();
        v
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
        if allowed.contains(CredentialType::SSH_KEY) {
            if !self.agent_tried {
                self.agent_tried = true;
                if std::env::var_os("SSH_AUTH_SOCK").is_some() {
                    self.tried.push("ssh-agent".into());
                    return Cred::ssh_key_from_agent(user);
                }
                self.tried
                    .push("ssh-agent (SSH_AUTH_SOCK is not set)".into());
            }
            if self.keys.is_none() {
                self.keys = Some(self.key_candidates());
            }
            while let Some(key) = self.keys.as_mut().and_then(|k| {
                if k.is_empty() {
                    None
                } else {
                    Some(k.remove(0))
                }
            }) {
                if key.is_file() {
                    self.tried.push(format!("key {}", key.display()));
                    return Cred::ssh_key(user, None, &key, None);
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
                        let name = name.as_deref().or(user_from_url).unwrap_or("git");
                        self.tried
                            .push(format!("token from ${}", self.cfg.token_env));
                        return Cred::userpass_plaintext(name, &token);
                    }
                    _ => self
                        .tried
                        .push(format!("token (${} is not set)", self.cfg.token_env)),
                }
            }
            if !self.helper_tried {
                self.helper_tried = true;
                if let Ok(config) = git2::Config::open_default() {
                    if let Ok(cred) = Cred::credential_helper(&config, url, user_from_url) {
                        self.tried.push("git credential helper".into());
                        return Ok(cred);
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
