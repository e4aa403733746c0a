//! PublishStateMachineVersion, ListStateMachineVersions, DeleteStateMachineVersion, and
//! CreateStateMachineAlias, DescribeStateMachineAlias, UpdateStateMachineAlias,
//! DeleteStateMachineAlias, ListStateMachineAliases.

use serde_json::{json, Value};

use super::shapes::{self, Checks, Req};
use super::{ApiError, Ctx};
use crate::engine::versions::{routes, Route};
use crate::model::StateMachineArn;
use crate::store::AliasRow;

/// A state machine ARN that may name a version (`:N`) or an alias (`:NAME`): the machine's
/// ARN and the qualifier.
pub fn qualified_arn(arn: &str) -> Result<(StateMachineArn, Option<&str>), ApiError> {
    const MARK: &str = ":stateMachine:";
    if let Some(at) = arn.find(MARK) {
        if let Some((_, qualifier)) = arn[at + MARK.len()..].split_once(':') {
            let base = &arn[..arn.len() - qualifier.len() - 1];
            let valid = !qualifier.is_empty()
                && qualifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !valid {
                return Err(ApiError::InvalidArn(format!("Invalid ARN resource: {arn}")));
            }
            return Ok((shapes::state_machine_arn(base)?, Some(qualifier)));
        }
    }
    Ok((shapes::state_machine_arn(arn)?, None))
}

/// An ARN member naming a version: the machine's ARN.
fn version_member(req: &Req, field: &str) -> Result<(StateMachineArn, String), ApiError> {
    let arn = arn_member(req, field)?;
    match qualified_arn(&arn)? {
        (machine, Some(q)) if q.bytes().all(|b| b.is_ascii_digit()) => Ok((machine, arn)),
        _ => Err(ApiError::InvalidArn(arn)),
    }
}

/// An ARN member naming an alias: the machine's ARN.
fn alias_member(req: &Req, field: &str) -> Result<(StateMachineArn, String), ApiError> {
    let arn = arn_member(req, field)?;
    match qualified_arn(&arn)? {
        (machine, Some(q)) if !q.bytes().all(|b| b.is_ascii_digit()) => Ok((machine, arn)),
        _ => Err(ApiError::InvalidArn(arn)),
    }
}

fn arn_member(req: &Req, field: &str) -> Result<String, ApiError> {
    shapes::arn_text(req, field).map(str::to_owned)
}

fn unqualified(req: &Req) -> Result<StateMachineArn, ApiError> {
    let arn = arn_member(req, "stateMachineArn")?;
    match qualified_arn(&arn)? {
        (machine, None) => Ok(machine),
        _ => Err(ApiError::InvalidArn(arn)),
    }
}

pub async fn publish_state_machine_version(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let machine = unqualified(&req)?;
    let mut checks = Checks::new();
    let revision_id = req.str("revisionId")?;
    let description = req.str("description")?;
    checks.length_sensitive("description", description, 0, 256);
    checks.done()?;
    let v = app
        .engine
        .publish_version(&machine, revision_id, description.map(str::to_owned))
        .await?;
    Ok(json!({
        "creationDate": shapes::epoch_seconds(v.creation_date_ms),
        "stateMachineVersionArn": v.arn,
    }))
}

/// A page of `items` (sorted as the list shows them) after the cursor `after`, by `key`.
fn page<T>(
    items: Vec<T>,
    after: Option<&str>,
    limit: i64,
    key: impl Fn(&T) -> &str,
) -> (Vec<T>, Option<String>) {
    let start = after
        .and_then(|a| items.iter().position(|i| key(i) == a).map(|p| p + 1))
        .unwrap_or(0);
    let limit = usize::try_from(limit).unwrap_or(100);
    let mut rest: Vec<T> = items.into_iter().skip(start).collect();
    let next = (rest.len() > limit).then(|| key(&rest[limit - 1]).to_owned());
    rest.truncate(limit);
    (rest, next)
}

/// A List answer of `items` (each shown as `{arn_key: ARN, creationDate}`) under `list_key`,
/// paged by ARN with tokens of `kind`.
fn listed<T>(
    req: &Req,
    kind: &str,
    items: Vec<T>,
    list_key: &str,
    arn_key: &str,
    fields: impl Fn(&T) -> (&str, i64),
) -> Result<Value, ApiError> {
    let (limit, after) = shapes::page_request(req, kind)?;
    let (items, next) = page(items, after, limit, |i| fields(i).0);
    let shown: Vec<Value> = items
        .iter()
        .map(|i| {
            let (arn, created) = fields(i);
            json!({ arn_key: arn, "creationDate": shapes::epoch_seconds(created) })
        })
        .collect();
    let mut out = json!({ list_key: shown });
    if let Some(next) = next {
        out["nextToken"] = json!(shapes::encode_token(kind, &next));
    }
    Ok(out)
}

pub async fn list_state_machine_versions(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let machine = unqualified(&req)?;
    let versions = app.engine.versions(machine.as_str()).await?;
    listed(
        &req,
        "version",
        versions,
        "stateMachineVersions",
        "stateMachineVersionArn",
        |v| (v.arn.as_str(), v.creation_date_ms),
    )
}

pub async fn delete_state_machine_version(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let (machine, arn) = version_member(&req, "stateMachineVersionArn")?;
    app.engine.delete_version(&machine, &arn).await?;
    Ok(json!({}))
}

/// `routingConfiguration`, checked as AWS checks it: first the model's constraints (one or two
/// items, each with an ARN and a weight from 0 to 100), then version ARNs only, their weights
/// adding up to 100, each version once, all of one machine. The messages are AWS's.
fn routing(req: &Req, required: bool) -> Result<Option<Vec<Route>>, ApiError> {
    let Some(list) = req.array("routingConfiguration")? else {
        if required {
            let mut checks = Checks::new();
            checks.required::<&str>("routingConfiguration", None);
            checks.done()?;
        }
        return Ok(None);
    };
    let mut checks = Checks::new();
    let items: Vec<(Option<&str>, Option<i64>)> = list
        .iter()
        .map(|item| {
            (
                item.get("stateMachineVersionArn").and_then(Value::as_str),
                item.get("weight").and_then(Value::as_i64),
            )
        })
        .collect();
    let shown: Vec<String> = items
        .iter()
        .map(|(arn, weight)| {
            let weight = weight.map_or("null".to_owned(), |w| w.to_string());
            format!(
                "RoutingConfigurationListItem(stateMachineVersionArn={}, weight={weight})",
                arn.unwrap_or("null")
            )
        })
        .collect();
    checks.list_length(
        "routingConfiguration",
        &format!("[{}]", shown.join(", ")),
        items.len(),
        1,
        2,
    );
    for (i, (arn, weight)) in items.iter().enumerate() {
        let at = format!("routingConfiguration.{}.member", i + 1);
        checks.required(&format!("{at}.stateMachineVersionArn"), *arn);
        checks.length(&format!("{at}.stateMachineVersionArn"), *arn, 1, 256);
        checks.required(&format!("{at}.weight"), *weight);
        checks.range(&format!("{at}.weight"), *weight, 0, 100);
    }
    checks.done()?;
    let mut routes = Vec::with_capacity(items.len());
    let mut machines = Vec::with_capacity(items.len());
    let mut all_versions = true;
    for (arn, weight) in items {
        let (arn, weight) = (arn.unwrap_or_default(), weight.unwrap_or_default());
        let (machine, qualifier) = qualified_arn(arn)?;
        all_versions &= qualifier.is_some_and(|q| q.bytes().all(|b| b.is_ascii_digit()));
        machines.push(machine.into_string());
        routes.push(Route {
            state_machine_version_arn: arn.to_owned(),
            weight: u32::try_from(weight).unwrap_or_default(),
        });
    }
    let arns = || {
        let listed: Vec<&str> = routes
            .iter()
            .map(|r| r.state_machine_version_arn.as_str())
            .collect();
        format!("[{}]", listed.join(", "))
    };
    if !all_versions {
        return Err(ApiError::ValidationMessage(format!(
            "Routing configuration must contain state machine version ARNs. Received: {}",
            arns()
        )));
    }
    if routes.iter().map(|r| r.weight).sum::<u32>() != 100 {
        let weights: Vec<String> = routes.iter().map(|r| r.weight.to_string()).collect();
        return Err(ApiError::ValidationMessage(format!(
            "Sum of routing configuration weights must equal 100. Received: [{}]",
            weights.join(", ")
        )));
    }
    if routes.len() == 2
        && routes[0].state_machine_version_arn == routes[1].state_machine_version_arn
    {
        return Err(ApiError::ValidationMessage(format!(
            "Routing configuration must contain distinct state machine version ARNs. \
             Received: {}",
            arns()
        )));
    }
    if machines.windows(2).any(|w| w[0] != w[1]) {
        return Err(ApiError::ValidationMessage(format!(
            "Routing configuration must contain versions of the same state machine. \
             Received: {}",
            arns()
        )));
    }
    Ok(Some(routes))
}

/// The model's pattern for an alias's name (CharacterRestrictedName): letters, digits, `-`,
/// `_` and `.`, with at least one that is not a digit.
const ALIAS_NAME_PATTERN: &str = r"^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$";

/// An alias's name: 1 to 80 characters of [`ALIAS_NAME_PATTERN`].
fn alias_name(req: &Req) -> Result<&str, ApiError> {
    let mut checks = Checks::new();
    let name = checks.required("name", req.str("name")?);
    checks.length("name", name, 1, 80);
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    let valid = name.is_some_and(|n| {
        n.bytes().all(allowed) && n.bytes().any(|b| allowed(b) && !b.is_ascii_digit())
    });
    checks.pattern("name", name, ALIAS_NAME_PATTERN, valid);
    checks.done()?;
    Ok(name.unwrap_or_default())
}

pub async fn create_state_machine_alias(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let name = alias_name(&req)?;
    let mut checks = Checks::new();
    let description = req.str("description")?;
    checks.length_sensitive("description", description, 0, 256);
    checks.done()?;
    let routes = routing(&req, true)?.unwrap_or_default();
    let Some(first) = routes.first() else {
        return Err(ApiError::Validation(vec![]));
    };
    let (machine, _) = qualified_arn(&first.state_machine_version_arn)?;
    let alias = app
        .engine
        .create_alias(&machine, name, description.map(str::to_owned), routes)
        .await?;
    Ok(json!({
        "stateMachineAliasArn": alias.arn,
        "creationDate": shapes::epoch_seconds(alias.creation_date_ms),
    }))
}

fn shown_routes(alias: &AliasRow) -> Value {
    json!(routes(alias))
}

pub async fn describe_state_machine_alias(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let (_, arn) = alias_member(&req, "stateMachineAliasArn")?;
    let alias = app
        .engine
        .alias(&arn)
        .await?
        .ok_or_else(|| ApiError::ResourceNotFound(arn.clone()))?;
    let mut out = json!({
        "stateMachineAliasArn": alias.arn,
        "name": alias.name,
        "routingConfiguration": shown_routes(&alias),
        "creationDate": shapes::epoch_seconds(alias.creation_date_ms),
        "updateDate": shapes::epoch_seconds(alias.update_date_ms),
    });
    if let Some(d) = &alias.description {
        out["description"] = json!(d);
    }
    Ok(out)
}

pub async fn update_state_machine_alias(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let (machine, arn) = alias_member(&req, "stateMachineAliasArn")?;
    let mut checks = Checks::new();
    let description = req.str("description")?;
    checks.length_sensitive("description", description, 0, 256);
    checks.done()?;
    let routes = routing(&req, false)?;
    if description.is_none() && routes.is_none() {
        return Err(ApiError::ValidationMessage(
            "Either the description or the RoutingConfiguration must be specified".into(),
        ));
    }
    let alias = app
        .engine
        .update_alias(&machine, &arn, description.map(str::to_owned), routes)
        .await
        .map_err(|e| match e {
            crate::engine::Error::ResourceNotFound(missing) if missing == arn => {
                ApiError::NoSuchResource
            }
            other => other.into(),
        })?;
    Ok(json!({ "updateDate": shapes::epoch_seconds(alias.update_date_ms) }))
}

pub async fn delete_state_machine_alias(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let (_, arn) = alias_member(&req, "stateMachineAliasArn")?;
    app.engine.delete_alias(&arn).await?;
    Ok(json!({}))
}

/// ListStateMachineAliases of a machine, or of one of its versions: the aliases that route to
/// it.
pub async fn list_state_machine_aliases(app: &Ctx, req: Value) -> Result<Value, ApiError> {
    let req = Req::new(req);
    let arn = arn_member(&req, "stateMachineArn")?;
    let (machine, version) = match qualified_arn(&arn)? {
        (machine, None) => (machine, None),
        (machine, Some(q)) if q.bytes().all(|b| b.is_ascii_digit()) => (machine, Some(&arn)),
        _ => return Err(ApiError::InvalidArn(arn)),
    };
    let mut aliases = app.engine.aliases(machine.as_str()).await?;
    if let Some(version) = version {
        aliases.retain(|a| {
            routes(a)
                .iter()
                .any(|r| &r.state_machine_version_arn == version)
        });
    }
    listed(
        &req,
        "alias",
        aliases,
        "stateMachineAliases",
        "stateMachineAliasArn",
        |a| (a.arn.as_str(), a.creation_date_ms),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_arns_name_a_machine_and_a_version_or_alias() {
        let m = "arn:aws:states:us-east-1:123456789012:stateMachine:orders";
        let (machine, q) = qualified_arn(m).expect("a machine");
        assert_eq!((machine.as_str(), q), (m, None));
        let v7 = format!("{m}:7");
        let (machine, q) = qualified_arn(&v7).expect("a version");
        assert_eq!((machine.as_str(), q), (m, Some("7")));
        let prod = format!("{m}:prod");
        let (_, q) = qualified_arn(&prod).expect("an alias");
        assert_eq!(q, Some("prod"));
        assert!(qualified_arn(&format!("{m}:")).is_err());
        assert!(qualified_arn(&format!("{m}:a:b")).is_err());
    }

    #[test]
    fn pages_go_on_after_the_cursor() {
        let items = vec!["a", "b", "c", "d", "e"];
        let (first, next) = page(items.clone(), None, 2, |s| s);
        assert_eq!((first, next.as_deref()), (vec!["a", "b"], Some("b")));
        let (second, next) = page(items.clone(), Some("b"), 2, |s| s);
        assert_eq!((second, next.as_deref()), (vec!["c", "d"], Some("d")));
        let (last, next) = page(items, Some("d"), 2, |s| s);
        assert_eq!((last, next), (vec!["e"], None));
    }
}
