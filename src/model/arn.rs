//! ARNs: building them the way AWS does and parsing what clients send. A typed ARN
//! ([`StateMachineArn`], [`ExecutionArn`]) has been checked once and names what it says.

use super::hash::stable_hash;

/// Partitions executions are spread over on SQLite, where one node holds them all (a
/// PostgreSQL database stores its own number, `cluster.partitions`).
pub const PARTITIONS: u64 = 256;

pub fn partition_of(execution_arn: &str) -> i64 {
    partition_in(execution_arn, PARTITIONS)
}

/// The partition of an execution among `partitions`.
pub fn partition_in(execution_arn: &str, partitions: u64) -> i64 {
    (stable_hash(execution_arn) % partitions.max(1)) as i64
}

pub fn state_machine_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:states:{region}:{account}:stateMachine:{name}")
}

pub fn execution_arn(region: &str, account: &str, machine: &str, name: &str) -> String {
    format!("arn:aws:states:{region}:{account}:execution:{machine}:{name}")
}

/// The ARN AWS gives an Express execution, `arn:aws:states:REGION:ACCOUNT:express:MACHINE:NAME:ID`,
/// for the execution `arn:...:execution:MACHINE:NAME` (hourglass keeps it under that one). The
/// ID is a UUID made from the execution's ARN, so the same execution always shows the same.
pub fn express_arn(execution_arn: &str) -> String {
    let Some((head, tail)) = execution_arn.split_once(":execution:") else {
        return execution_arn.to_owned();
    };
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&stable_hash(execution_arn).to_be_bytes());
    bytes[8..].copy_from_slice(&stable_hash(tail).to_be_bytes());
    let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
    format!("{head}:express:{tail}:{id}")
}

pub fn activity_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:states:{region}:{account}:activity:{name}")
}

/// What a client-supplied ARN names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    StateMachine { name: String },
    Execution { machine: String, name: String },
    Activity { name: String },
    Other(String),
}

impl Resource {
    /// The resource type as the ARN writes it.
    pub fn kind(&self) -> &str {
        match self {
            Resource::StateMachine { .. } => "stateMachine",
            Resource::Execution { .. } => "execution",
            Resource::Activity { .. } => "activity",
            Resource::Other(kind) => kind,
        }
    }
}

/// Why an ARN was refused; the text is AWS's, to be wrapped as `Invalid Arn: '<text>'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArnError(pub String);

/// Parse an ARN of Step Functions (`arn:aws:states:region:account:type:...`).
pub fn parse(arn: &str) -> Result<Resource, ArnError> {
    Ok(match parts(arn)? {
        Parts::StateMachine(name) => Resource::StateMachine {
            name: name.to_owned(),
        },
        Parts::Execution(machine, name) => Resource::Execution {
            machine: machine.to_owned(),
            name: name.to_owned(),
        },
        Parts::Activity(name) => Resource::Activity {
            name: name.to_owned(),
        },
        Parts::Other(kind) => Resource::Other(kind.to_owned()),
    })
}

/// What [`parse`] finds, borrowed from the ARN: the typed ARNs are checked without copying
/// their parts.
enum Parts<'a> {
    StateMachine(&'a str),
    Execution(&'a str, &'a str),
    Activity(&'a str),
    Other(&'a str),
}

fn parts(arn: &str) -> Result<Parts<'_>, ArnError> {
    let prefix = || ArnError(format!("Invalid ARN prefix: {arn}"));
    let rest = arn.strip_prefix("arn:").ok_or_else(prefix)?;
    // partition:service:region:account:resource
    let mut fields = rest.splitn(5, ':');
    let (Some(partition), Some(service), Some(_region), Some(_account), Some(resource)) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return Err(prefix());
    };
    if partition.is_empty() || service != "states" {
        return Err(prefix());
    }
    let (kind, tail) = resource.split_once(':').unwrap_or((resource, ""));
    let invalid = || ArnError(format!("Invalid ARN resource: {arn}"));
    match kind {
        "stateMachine" if is_plain_name(tail) => Ok(Parts::StateMachine(tail)),
        "execution" => match tail.split_once(':') {
            Some((machine, name)) if is_plain_name(machine) && is_plain_name(name) => {
                Ok(Parts::Execution(machine, name))
            }
            _ => Err(invalid()),
        },
        "activity" if is_plain_name(tail) => Ok(Parts::Activity(tail)),
        "stateMachine" | "activity" => Err(invalid()),
        other => Ok(Parts::Other(other)),
    }
}

fn is_plain_name(s: &str) -> bool {
    !s.is_empty() && !s.contains(':')
}

/// A state machine's ARN: `arn:aws:states:REGION:ACCOUNT:stateMachine:NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateMachineArn {
    arn: String,
    /// Where the name starts in `arn`.
    name_at: usize,
}

/// An execution's ARN: `arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExecutionArn {
    arn: String,
    /// Where the machine's name starts in `arn`, and where the execution's name starts.
    machine_at: usize,
    name_at: usize,
}

impl StateMachineArn {
    pub fn new(region: &str, account: &str, name: &str) -> Self {
        let arn = state_machine_arn(region, account, name);
        let name_at = arn.len() - name.len();
        Self { arn, name_at }
    }

    /// A state machine ARN as a client sent it.
    pub fn parse(s: &str) -> Result<Self, ArnError> {
        match parts(s)? {
            Parts::StateMachine(name) => Ok(Self {
                name_at: s.len() - name.len(),
                arn: s.to_owned(),
            }),
            _ => Err(ArnError(format!("Invalid ARN resource: {s}"))),
        }
    }

    pub fn name(&self) -> &str {
        &self.arn[self.name_at..]
    }

    pub fn as_str(&self) -> &str {
        &self.arn
    }

    pub fn into_string(self) -> String {
        self.arn
    }

    /// The ARN of this machine's execution `name`.
    pub fn execution(&self, name: &str) -> ExecutionArn {
        let prefix = &self.arn[..self.name_at - "stateMachine:".len()];
        // Pushed rather than formatted: `format!` cost a start about 1,200 instructions.
        let mut arn = String::with_capacity(
            prefix.len() + "execution:".len() + self.name().len() + 1 + name.len(),
        );
        for part in [prefix, "execution:", self.name(), ":", name] {
            arn.push_str(part);
        }
        ExecutionArn {
            machine_at: prefix.len() + "execution:".len(),
            name_at: arn.len() - name.len(),
            arn,
        }
    }
}

impl ExecutionArn {
    /// An execution ARN as a client sent it.
    pub fn parse(s: &str) -> Result<Self, ArnError> {
        match parts(s)? {
            Parts::Execution(machine, name) => Ok(Self {
                name_at: s.len() - name.len(),
                machine_at: s.len() - name.len() - 1 - machine.len(),
                arn: s.to_owned(),
            }),
            _ => Err(ArnError(format!("Invalid ARN resource: {s}"))),
        }
    }

    pub fn name(&self) -> &str {
        &self.arn[self.name_at..]
    }

    pub fn machine_name(&self) -> &str {
        &self.arn[self.machine_at..self.name_at - 1]
    }

    /// The ARN of the state machine this execution belongs to.
    pub fn state_machine(&self) -> StateMachineArn {
        let prefix = &self.arn[..self.machine_at - "execution:".len()];
        StateMachineArn::new_from_prefix(prefix, self.machine_name())
    }

    pub fn as_str(&self) -> &str {
        &self.arn
    }

    pub fn into_string(self) -> String {
        self.arn
    }

    /// The partition this execution belongs to, of `partitions`.
    pub fn partition(&self, partitions: u64) -> i64 {
        (stable_hash(&self.arn) % partitions.max(1)) as i64
    }
}

impl StateMachineArn {
    fn new_from_prefix(prefix: &str, name: &str) -> Self {
        let arn = format!("{prefix}stateMachine:{name}");
        Self {
            name_at: arn.len() - name.len(),
            arn,
        }
    }
}

impl std::fmt::Display for StateMachineArn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.arn)
    }
}

impl std::fmt::Display for ExecutionArn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.arn)
    }
}

impl From<StateMachineArn> for String {
    fn from(a: StateMachineArn) -> String {
        a.arn
    }
}

impl From<ExecutionArn> for String {
    fn from(a: ExecutionArn) -> String {
        a.arn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_express_execution_is_named_as_aws_names_it_the_same_each_time() {
        let standard = "arn:aws:states:us-east-1:123456789012:execution:orders:run-1";
        let express = express_arn(standard);
        let id = express
            .strip_prefix("arn:aws:states:us-east-1:123456789012:express:orders:run-1:")
            .expect("the machine and name, then an id");
        assert_eq!(
            uuid::Uuid::parse_str(id)
                .map(|u| u.to_string())
                .ok()
                .as_deref(),
            Some(id)
        );
        assert_eq!(express_arn(standard), express);
        assert_ne!(
            express_arn("arn:aws:states:us-east-1:123456789012:execution:orders:run-2"),
            express
        );
        assert_eq!(
            parse(&express),
            Ok(Resource::Other("express".into())),
            "not an ARN the execution calls take"
        );
    }

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
                Ok(Resource::Activity { name: "a".into() }),
            ),
            (
                "activity without a name",
                "arn:aws:states:us-east-1:123456789012:activity:",
                Err(ArnError(
                    "Invalid ARN resource: arn:aws:states:us-east-1:123456789012:activity:".into(),
                )),
            ),
            (
                "map run",
                "arn:aws:states:us-east-1:123456789012:mapRun:m/1:2",
                Ok(Resource::Other("mapRun".into())),
            ),
        ];
        for (name, arn, want) in cases {
            assert_eq!(parse(arn), want, "{name}");
        }
    }

    #[test]
    fn typed_arns_name_their_parts() {
        let sm = StateMachineArn::new("us-east-1", "123456789012", "hello");
        assert_eq!(
            sm.as_str(),
            "arn:aws:states:us-east-1:123456789012:stateMachine:hello"
        );
        assert_eq!(sm.name(), "hello");
        let e = sm.execution("run-1");
        assert_eq!(
            e.as_str(),
            "arn:aws:states:us-east-1:123456789012:execution:hello:run-1"
        );
        assert_eq!((e.machine_name(), e.name()), ("hello", "run-1"));
        assert_eq!(e.state_machine(), sm);
        assert_eq!(ExecutionArn::parse(e.as_str()), Ok(e.clone()));
        assert_eq!(StateMachineArn::parse(sm.as_str()), Ok(sm));
        assert!(StateMachineArn::parse(e.as_str()).is_err());
        assert_eq!(e.partition(256), e.partition(256));
    }
}
