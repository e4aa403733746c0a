//! Task tokens: what a Task state waiting for a callback (`.waitForTaskToken`) hands out as
//! `$$.Task.Token`, and what `SendTaskSuccess`, `SendTaskFailure` and `SendTaskHeartbeat`
//! bring back.
//!
//! A token names the execution and the attempt (the id of its `TaskScheduled` event) and
//! carries a tag: the first 128 bits of SHA-256 over the execution's token key and the
//! attempt. The key is 244 random bits kept in the execution's cursor, so a token survives a
//! restart, and one cannot be made up or turned into another attempt's without it.
//!
//! ```text
//! base64url( "1|" execution ARN "|" attempt "|" tag as 32 hex digits )
//! ```

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// A token, decoded; its tag is checked against the execution's key by [`TaskToken::matches`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskToken {
    pub execution_arn: String,
    /// The id of the attempt's `TaskScheduled` event.
    pub seq: i64,
    tag: String,
}

/// A new execution's token key: 244 random bits, as hex.
pub fn new_key() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

fn tag(key: &str, seq: i64) -> String {
    let digest = Sha256::new()
        .chain_update(key.as_bytes())
        .chain_update(b"|")
        .chain_update(seq.to_string().as_bytes())
        .finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

impl TaskToken {
    /// The token of attempt `seq` of the execution `execution_arn` whose key is `key`.
    pub fn encode(execution_arn: &str, seq: i64, key: &str) -> String {
        let text = format!("1|{execution_arn}|{seq}|{}", tag(key, seq));
        URL_SAFE_NO_PAD.encode(text)
    }

    /// Decode a token; `None` when it is not one this server made.
    pub fn parse(token: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.splitn(4, '|');
        if parts.next()? != "1" {
            return None;
        }
        let execution_arn = parts.next()?.to_owned();
        let seq = parts.next()?.parse().ok()?;
        let tag = parts.next()?.to_owned();
        (tag.len() == 32 && tag.bytes().all(|b| b.is_ascii_hexdigit()) && seq > 0).then_some(Self {
            execution_arn,
            seq,
            tag,
        })
    }

    /// Whether the token was made with `key` (compared in constant time).
    pub fn matches(&self, key: &str) -> bool {
        let want = tag(key, self.seq);
        want.len() == self.tag.len()
            && want
                .bytes()
                .zip(self.tag.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:states:us-east-1:123456789012:execution:m:e";

    #[test]
    fn a_token_names_its_attempt_and_only_its_key_makes_it() {
        let key = new_key();
        assert_eq!(key.len(), 64);
        let token = TaskToken::encode(ARN, 7, &key);
        let parsed = TaskToken::parse(&token).expect("parses");
        assert_eq!((parsed.execution_arn.as_str(), parsed.seq), (ARN, 7));
        assert!(parsed.matches(&key));
        assert!(!parsed.matches(&new_key()), "another execution's key");
        // Another attempt's token cannot be made from this one.
        let other = URL_SAFE_NO_PAD.encode(format!("1|{ARN}|8|{}", parsed.tag));
        assert!(!TaskToken::parse(&other).expect("parses").matches(&key));
    }

    #[test]
    fn text_that_is_not_a_token_does_not_parse() {
        for bad in [
            "",
            "x",
            "not base64 !",
            &URL_SAFE_NO_PAD.encode("2|arn|1|00000000000000000000000000000000"),
            &URL_SAFE_NO_PAD.encode(format!("1|{ARN}|zero|00000000000000000000000000000000")),
            &URL_SAFE_NO_PAD.encode(format!("1|{ARN}|0|00000000000000000000000000000000")),
            &URL_SAFE_NO_PAD.encode(format!("1|{ARN}|3|short")),
            &URL_SAFE_NO_PAD.encode([0xff, 0xfe]),
        ] {
            assert!(TaskToken::parse(bad).is_none(), "{bad:?}");
        }
    }
}
