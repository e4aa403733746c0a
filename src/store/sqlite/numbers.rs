//! Executions stored by numbers (migration 0009): a row keeps its machine's number and its
//! name, not its ARN, and the view `executions` rebuilds the ARN from the two. These say which
//! ARNs the two make, and what a row keeps of an ARN they do not make.

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

#[cfg(test)]
mod tests {
    use super::*;

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
