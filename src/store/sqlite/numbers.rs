//! Executions stored by numbers (migration 0009): a row keeps its machine's number and its
//! name, not its ARN, and the view `executions` rebuilds the ARN from the two. These say which
//! ARNs the two make, and what a row keeps of an ARN they do not make. Since migration 0010 a
//! name that is a UUID is kept as its 16 bytes and the status as a number: these say how a
//! name, a range of names and a status are kept.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::sqlite::{Sqlite, SqliteArgumentValue, SqliteTypeInfo};

use crate::model::ExecutionStatus;
use crate::store::ExecutionRow;

/// Where a machine's ARN and an execution's differ: `arn:...:stateMachine:M` and
/// `arn:...:execution:M:N`. The view's SQL `replace` replaces every occurrence, as these do.
const MACHINE: &str = ":stateMachine:";
const EXECUTION: &str = ":execution:";

/// Whether `arn` is the one the view rebuilds from `machine_arn` and `name`.
fn rebuilt(arn: &str, machine_arn: &str, name: &str) -> bool {
    let Some(mut rest) = arn
        .strip_suffix(name)
        .and_then(|head| head.strip_suffix(':'))
    else {
        return false;
    };
    for (i, part) in machine_arn.split(MACHINE).enumerate() {
        if i > 0 {
            match rest.strip_prefix(EXECUTION) {
                Some(r) => rest = r,
                None => return false,
            }
        }
        match rest.strip_prefix(part) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

/// What a row keeps in its `arn` column: nothing when its machine and name make its ARN.
pub(super) fn arn_kept(r: &ExecutionRow) -> Option<&str> {
    (!rebuilt(&r.arn, &r.state_machine_arn, &r.name)).then_some(r.arn.as_str())
}

/// The machine's ARN and the name that make `arn`, if some do.
pub(super) fn machine_and_name(arn: &str) -> Option<(String, &str)> {
    let (head, name) = arn.rsplit_once(':')?;
    let machine = machine_of(head);
    rebuilt(arn, &machine, name).then_some((machine, name))
}

/// The machine's ARN of an execution ARN without its name (`arn:...:execution:M`).
pub(super) fn machine_of(head: &str) -> String {
    head.replace(EXECUTION, MACHINE)
}

/// How a row keeps its status: `execution_statuses.code` (migration 0010).
pub(super) fn status_code(status: ExecutionStatus) -> i64 {
    match status {
        ExecutionStatus::Running => RUNNING,
        ExecutionStatus::Succeeded => 2,
        ExecutionStatus::Failed => 3,
        ExecutionStatus::TimedOut => 4,
        ExecutionStatus::Aborted => 5,
        ExecutionStatus::PendingRedrive => 6,
    }
}

/// The code of RUNNING, for queries that name it.
pub(super) const RUNNING: i64 = 1;

/// How a row keeps its name: a UUID written as hourglass writes one (lowercase, 8-4-4-4-12) as
/// its 16 bytes, which give back the same text; any other name as text. The two never equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StoredName<'a> {
    Text(&'a str),
    Uuid([u8; 16]),
}

pub(super) fn stored_name(name: &str) -> StoredName<'_> {
    uuid_bytes(name).map_or(StoredName::Text(name), StoredName::Uuid)
}

impl<'q> sqlx::Encode<'q, Sqlite> for StoredName<'q> {
    fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
        buf.push(match *self {
            StoredName::Text(s) => SqliteArgumentValue::Text(s.into()),
            StoredName::Uuid(b) => SqliteArgumentValue::Blob(b.to_vec().into()),
        });
        Ok(IsNull::No)
    }
}

impl rusqlite::ToSql for StoredName<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            StoredName::Text(s) => ValueRef::Text(s.as_bytes()),
            StoredName::Uuid(b) => ValueRef::Blob(b),
        }))
    }
}

impl sqlx::Type<Sqlite> for StoredName<'_> {
    fn type_info() -> SqliteTypeInfo {
        <&str as sqlx::Type<Sqlite>>::type_info()
    }
}

/// The characters a UUID may have at position `i` of its text, in order.
fn uuid_chars(i: usize) -> &'static [u8] {
    if matches!(i, 8 | 13 | 18 | 23) {
        b"-"
    } else {
        b"0123456789abcdef"
    }
}

/// The 16 bytes of `text` if it is a UUID as hourglass writes one, else `None`: the forms
/// the parser also takes (capitals, no dashes, braces) stay text, so that text comes back.
fn uuid_bytes(text: &str) -> Option<[u8; 16]> {
    let uuid = uuid::Uuid::try_parse(text).ok()?;
    let mut buf = uuid::Uuid::encode_buffer();
    (uuid.hyphenated().encode_lower(&mut buf) == text).then(|| uuid.into_bytes())
}

/// `prefix`, a valid start of a UUID's text, completed with the lowest or highest characters.
fn uuid_filled(prefix: &[u8], highest: bool) -> Option<[u8; 16]> {
    let text: String = (0..36)
        .map(|i| {
            let chars = uuid_chars(i);
            let c = match prefix.get(i) {
                Some(&c) => c,
                None if highest => chars[chars.len() - 1],
                None => chars[0],
            };
            char::from(c)
        })
        .collect();
    uuid_bytes(&text)
}

/// The names kept as bytes whose text starts with `start`: an inclusive range of 16-byte
/// values, in the same order as their texts (lowercase hex sorts as its bytes do).
pub(super) fn uuid_range(start: &str) -> Option<([u8; 16], [u8; 16])> {
    let start = start.as_bytes();
    if start.len() > 36 {
        return None;
    }
    Some((uuid_filled(start, false)?, uuid_filled(start, true)?))
}

/// The least UUID whose text sorts after `text`, as bytes: where names kept as bytes resume
/// after a page that ended at the name `text`.
pub(super) fn uuid_after(text: &str) -> Option<[u8; 16]> {
    let t = text.as_bytes();
    // The longest start of `t` that starts a UUID's text.
    let valid = (0..=t.len().min(36))
        .take_while(|&i| i == 0 || uuid_chars(i - 1).contains(&t[i - 1]))
        .last()?;
    for i in (0..=valid).rev() {
        if i == 36 {
            continue;
        }
        let Some(&next) = t.get(i) else {
            // `t` itself starts a UUID: the least one it starts sorts after it.
            return uuid_filled(t, false);
        };
        if let Some(&c) = uuid_chars(i).iter().find(|&&c| c > next) {
            let mut prefix = t[..i].to_vec();
            prefix.push(c);
            return uuid_filled(&prefix, false);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text of 16 bytes kept for a name, as the view writes it.
    fn text_of(b: [u8; 16]) -> String {
        uuid::Uuid::from_bytes(b).hyphenated().to_string()
    }

    #[test]
    fn uuids_as_written_are_kept_as_bytes_and_no_other_name() {
        let u = uuid::Uuid::new_v4().to_string();
        let StoredName::Uuid(b) = stored_name(&u) else {
            panic!("{u} kept as text");
        };
        assert_eq!(text_of(b), u);
        for other in [
            u.to_uppercase(),
            u.replace('-', ""),
            format!("{{{u}}}"),
            format!("{u}0"),
            u[..35].to_owned(),
            u.replacen('-', "0", 1),
            "run-1".to_owned(),
            String::new(),
        ] {
            assert_eq!(stored_name(&other), StoredName::Text(&other), "{other}");
        }
    }

    /// The codes written agree with `execution_statuses`, which the view reads them by.
    #[tokio::test]
    async fn status_codes_are_the_tables() {
        let (_reader, mut conn, _dir) = super::super::open_temporary().await;
        for &s in ExecutionStatus::ALL {
            let code: i64 =
                sqlx::query_scalar("SELECT code FROM execution_statuses WHERE name = ?")
                    .bind(s.as_str())
                    .fetch_one(&mut conn)
                    .await
                    .expect("a row for every status");
            assert_eq!(code, status_code(s), "{s:?}");
        }
    }

    #[test]
    fn a_prefix_is_a_range_of_uuids_in_text_order() {
        let (lo, hi) = uuid_range("0b1c2d3e-a").expect("a UUID's start");
        assert_eq!(text_of(lo), "0b1c2d3e-a000-0000-0000-000000000000");
        assert_eq!(text_of(hi), "0b1c2d3e-afff-ffff-ffff-ffffffffffff");
        let (lo, hi) = uuid_range("").expect("every UUID");
        assert_eq!((lo, hi), ([0; 16], [0xff; 16]));
        for not in ["0b1c2d3eX", "0B", "0b1c2d3e0", "-"] {
            assert_eq!(uuid_range(not), None, "{not}");
        }
    }

    /// `uuid_after(t)` is the least UUID text greater than `t`: checked against every UUID of a
    /// small alphabet's worth of neighbours.
    #[test]
    fn the_least_uuid_after_a_name() {
        let u = "0b1c2d3e-aaaa-4bbb-8ccc-0123456789ab";
        let cases = [
            ("", "00000000-0000-0000-0000-000000000000"),
            (u, "0b1c2d3e-aaaa-4bbb-8ccc-0123456789ac"),
            ("0b1c2d3e", "0b1c2d3e-0000-0000-0000-000000000000"),
            ("0b1c2d3e:", "0b1c2d3f-0000-0000-0000-000000000000"),
            ("0b1c2d3g", "0b1c2d40-0000-0000-0000-000000000000"),
            (
                "0b1c2d3e-aaaa-4bbb-8ccc-0123456789ab-x",
                "0b1c2d3e-aaaa-4bbb-8ccc-0123456789ac",
            ),
            (
                "0b1c2d3e-aaaa-4bbb-8ccc-012345678fff",
                "0b1c2d3e-aaaa-4bbb-8ccc-012345679000",
            ),
            ("9z", "a0000000-0000-0000-0000-000000000000"),
            ("A", "a0000000-0000-0000-0000-000000000000"),
            ("/", "00000000-0000-0000-0000-000000000000"),
        ];
        for (after, least) in cases {
            let got = uuid_after(after).map(text_of);
            assert_eq!(got.as_deref(), Some(least), "after {after:?}");
            assert!(least > after);
        }
        for none in ["g", "ffffffff-ffff-ffff-ffff-ffffffffffff", "z"] {
            assert_eq!(uuid_after(none), None, "after {none:?}");
        }
    }

    const MACHINE_ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:orders";
    const ARN: &str = "arn:aws:states:us-east-1:123456789012:execution:orders:run-1";

    #[test]
    fn an_execution_arn_is_its_machine_and_name() {
        assert!(rebuilt(ARN, MACHINE_ARN, "run-1"));
        assert_eq!(
            machine_and_name(ARN),
            Some((MACHINE_ARN.to_owned(), "run-1"))
        );
        // A Distributed Map's child: the machine's ARN carries the label.
        let child = "arn:aws:states:us-east-1:1:execution:orders/Label:0b1c";
        assert_eq!(
            machine_and_name(child),
            Some((
                "arn:aws:states:us-east-1:1:stateMachine:orders/Label".to_owned(),
                "0b1c"
            ))
        );
    }

    #[test]
    fn arns_the_two_do_not_make_are_kept_whole() {
        for (arn, machine, name) in [
            (ARN, MACHINE_ARN, "run-2"),
            (
                ARN,
                "arn:aws:states:us-east-1:123456789012:stateMachine:other",
                "run-1",
            ),
            (
                "arn:aws:states:us-east-1:1:express:orders:run-1:x",
                MACHINE_ARN,
                "x",
            ),
            ("run-1", MACHINE_ARN, "run-1"),
            ("", "", ""),
        ] {
            assert!(!rebuilt(arn, machine, name), "{arn} {machine} {name}");
        }
        // An ARN naming `:stateMachine:` where the view would write `:execution:`.
        let odd = "arn:aws:states:r:1:stateMachine:execution:m:n";
        assert_eq!(machine_and_name(odd), None);
        assert_eq!(machine_and_name("no-colon"), None);
    }
}
