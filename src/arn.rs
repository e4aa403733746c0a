//! ARNs and names: building them the way AWS does and parsing what clients send.

/// FNV-1a: a hash that is the same in every process (std's hasher is randomly seeded), used
/// for partitions and lock stripes.
pub fn stable_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Partitions executions are spread over (for scale-out; one node holds them all today).
pub const PARTITIONS: u64 = 256;

pub fn partition_of(execution_arn: &str) -> i64 {
    (stable_hash(execution_arn) % PARTITIONS) as i64
}

pub fn state_machine_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:states:{region}:{account}:stateMachine:{name}")
}

pub fn execution_arn(region: &str, account: &str, machine: &str, name: &str) -> String {
    format!("arn:aws:states:{region}:{account}:execution:{machine}:{name}")
}

/// What a client-supplied ARN names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    StateMachine { name: String },
    Execution { machine: String, name: String },
    Other(String),
}

/// Why an ARN was refused; the text is AWS's, to be wrapped as `Invalid Arn: '<text>'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArnError(pub String);

/// Parse an ARN of Step Functions (`arn:aws:states:region:account:type:...`).
pub fn parse(arn: &str) -> Result<Resource, ArnError> {
    let Some(rest) = arn.strip_prefix("arn:") else {
        return Err(ArnError(format!("Invalid ARN prefix: {arn}")));
    };
    // partition:service:region:account:resource
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    if parts.len() < 5 || parts[0].is_empty() || parts[1] != "states" {
        return Err(ArnError(format!("Invalid ARN prefix: {arn}")));
    }
    let resource = parts[4];
    let (kind, tail) = resource.split_once(':').unwrap_or((resource, ""));
    match kind {
        "stateMachine" if is_plain_name(tail) => Ok(Resource::StateMachine {
            name: tail.to_owned(),
        }),
        "execution" => match tail.split_once(':') {
            Some((machine, name)) if is_plain_name(machine) && is_plain_name(name) => {
                Ok(Resource::Execution {
                    machine: machine.to_owned(),
                    name: name.to_owned(),
                })
            }
            _ => Err(ArnError(format!("Invalid ARN resource: {arn}"))),
        },
        "stateMachine" => Err(ArnError(format!("Invalid ARN resource: {arn}"))),
        other => Ok(Resource::Other(other.to_owned())),
    }
}

fn is_plain_name(s: &str) -> bool {
    !s.is_empty() && !s.contains(':')
}

/// AWS's rule for state machine and execution names: no whitespace, brackets, wildcards,
/// listed punctuation or control characters. Length is checked separately (it is a model
/// constraint with its own error).
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| {
            !(c.is_whitespace()
                || matches!(
                    c,
                    '<' | '>'
                        | '{'
                        | '}'
                        | '['
                        | ']'
                        | '?'
                        | '*'
                        | '"'
                        | '#'
                        | '%'
                        | '\\'
                        | '^'
                        | '|'
                        | '~'
                        | '`'
                        | '$'
                        | '&'
                        | ','
                        | ';'
                        | ':'
                        | '/'
                )
                || ('\u{0}'..='\u{1f}').contains(&c)
                || ('\u{7f}'..='\u{9f}').contains(&c))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_aws_issues_and_refuses_the_rest() {
        let cases = [
            (
                "state machine",
                "arn:aws:states:us-east-1:123456789012:stateMachine:hello",
                Ok(Resource::StateMachine {
                    name: "hello".into(),
                }),
            ),
            (
                "execution",
                "arn:aws:states:us-east-1:123456789012:execution:hello:run-1",
                Ok(Resource::Execution {
                    machine: "hello".into(),
                    name: "run-1".into(),
                }),
            ),
            (
                "no prefix",
                "invalid_state_machine_arn",
                Err(ArnError(
                    "Invalid ARN prefix: invalid_state_machine_arn".into(),
                )),
            ),
            (
                "other service",
                "arn:aws:lambda:us-east-1:123456789012:function:f",
                Err(ArnError(
                    "Invalid ARN prefix: arn:aws:lambda:us-east-1:123456789012:function:f".into(),
                )),
            ),
            (
                "activity",
                "arn:aws:states:us-east-1:123456789012:activity:a",
                Ok(Resource::Other("activity".into())),
            ),
        ];
        for (name, arn, want) in cases {
            assert_eq!(parse(arn), want, "{name}");
        }
    }

    #[test]
    fn names() {
        let cases = [
            ("plain", "hello-world_1.2", true),
            ("unicode letters", "héllo", true),
            ("space", "a b", false),
            ("bracket", "activity[name", false),
            ("colon", "a:b", false),
            ("control", "a\u{1}", false),
            ("c1 control", "a\u{85}", false),
            ("empty", "", false),
        ];
        for (case, name, want) in cases {
            assert_eq!(is_valid_name(name), want, "{case}");
        }
    }

    #[test]
    fn hash_is_stable() {
        assert_eq!(stable_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(
            partition_of("arn:aws:states:us-east-1:1:execution:a:b"),
            partition_of("arn:aws:states:us-east-1:1:execution:a:b")
        );
    }
}
