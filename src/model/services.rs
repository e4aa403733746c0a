//! The AWS services Task states can call besides Lambda and Step Functions' own
//! `startExecution`: one table entry per service. Adding such a
//! service is a row here and its endpoint setting, not new code.
//!
//! | form | resource | parameters and result | errors |
//! |---|---|---|---|
//! | optimized | `arn:aws:states:::sqs:sendMessage` | the API's members; the result with `SdkHttpMetadata` | `SQS.QueueDoesNotExistException`, with SDK v1's cause |
//! | AWS SDK | `arn:aws:states:::aws-sdk:sqs:sendMessage` | the API's members, capitalised | `Sqs.QueueDoesNotExistException`, with SDK v2's cause |
//!
//! SNS speaks the AWS Query protocol (form-encoded requests, XML answers), Lambda the REST-JSON
//! protocol and S3 the REST-XML one (the operations of both listed in the table); the others
//! AWS JSON.

/// One service.
#[derive(Debug, PartialEq, Eq)]
pub struct Service {
    /// The name in `aws-sdk:NAME:action`.
    pub sdk_id: &'static str,
    /// The name of its optimized integration (`NAME:action`), if it has one.
    pub optimized_id: Option<&'static str>,
    /// The actions its optimized integration offers.
    pub optimized_actions: &'static [&'static str],
    /// `X-Amz-Target: PREFIX.Action`.
    pub target_prefix: &'static str,
    /// `application/x-amz-json-VERSION`; empty for a service speaking the AWS Query protocol.
    pub json_version: &'static str,
    /// The API version of a service speaking the AWS Query protocol (form-encoded requests,
    /// XML answers), such as SNS.
    pub query_version: Option<&'static str>,
    /// The SigV4 service name, and the host prefix of its regional endpoint.
    pub signing_name: &'static str,
    /// Whether its wire members are camelCase (the state writes them capitalised).
    pub camel_case: bool,
    /// The prefix of its errors in the AWS SDK form (`Sqs.QueueDoesNotExistException`).
    pub sdk_error_prefix: &'static str,
    /// The prefix of its errors in the optimized form (`SQS.…`), its base exception (an error
    /// the model does not name), and the service name in the cause.
    pub optimized_error_prefix: &'static str,
    pub optimized_base_exception: &'static str,
    pub optimized_service_name: &'static str,
    /// The operations of a service speaking AWS's REST-JSON protocol (Lambda): each action's
    /// method, path and where its members go. Empty for the JSON and Query protocols, which
    /// take any action.
    pub rest: &'static [RestOperation],
}

/// One operation of a REST-JSON service: members named in `{Member}` of the path, in `query`
/// or in `headers` go there; `payload` names a member sent as the raw body; the other members
/// make a JSON body. The answer's body becomes `response_payload` (as text) or the members;
/// `response_headers` and the status code (`response_status`) are members too.
#[derive(Debug, PartialEq, Eq)]
pub struct RestOperation {
    pub action: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub query: &'static [(&'static str, &'static str)],
    pub headers: &'static [(&'static str, &'static str)],
    pub payload: Option<&'static str>,
    pub response_headers: &'static [(&'static str, &'static str)],
    pub response_status: Option<&'static str>,
    pub response_payload: Option<&'static str>,
}

impl RestOperation {
    const fn get(action: &'static str, path: &'static str) -> Self {
        Self {
            action,
            method: "GET",
            path,
            query: &[],
            headers: &[],
            payload: None,
            response_headers: &[],
            response_status: None,
            response_payload: None,
        }
    }

    const fn with_method(mut self, method: &'static str) -> Self {
        self.method = method;
        self
    }

    const fn with_query(mut self, query: &'static [(&'static str, &'static str)]) -> Self {
        self.query = query;
        self
    }

    const fn with_payload(mut self, member: &'static str) -> Self {
        self.payload = Some(member);
        self
    }
}

const QUALIFIER: &[(&str, &str)] = &[("Qualifier", "Qualifier")];
const PAGING: &[(&str, &str)] = &[("Marker", "Marker"), ("MaxItems", "MaxItems")];

/// Lambda's operations a state can call: invoking, reading and publishing functions.
const LAMBDA: &[RestOperation] = &[
    RestOperation {
        action: "invoke",
        method: "POST",
        path: "/2015-03-31/functions/{FunctionName}/invocations",
        query: QUALIFIER,
        headers: &[
            ("InvocationType", "X-Amz-Invocation-Type"),
            ("LogType", "X-Amz-Log-Type"),
            ("ClientContext", "X-Amz-Client-Context"),
        ],
        payload: Some("Payload"),
        response_headers: &[
            ("FunctionError", "x-amz-function-error"),
            ("LogResult", "x-amz-log-result"),
            ("ExecutedVersion", "x-amz-executed-version"),
        ],
        response_status: Some("StatusCode"),
        response_payload: Some("Payload"),
    },
    RestOperation::get("getFunction", "/2015-03-31/functions/{FunctionName}").with_query(QUALIFIER),
    RestOperation::get(
        "getFunctionConfiguration",
        "/2015-03-31/functions/{FunctionName}/configuration",
    )
    .with_query(QUALIFIER),
    RestOperation::get("listFunctions", "/2015-03-31/functions/").with_query(&[
        ("Marker", "Marker"),
        ("MaxItems", "MaxItems"),
        ("FunctionVersion", "FunctionVersion"),
        ("MasterRegion", "MasterRegion"),
    ]),
    RestOperation::get(
        "listVersionsByFunction",
        "/2015-03-31/functions/{FunctionName}/versions",
    )
    .with_query(PAGING),
    RestOperation::get(
        "listAliases",
        "/2015-03-31/functions/{FunctionName}/aliases",
    )
    .with_query(&[
        ("Marker", "Marker"),
        ("MaxItems", "MaxItems"),
        ("FunctionVersion", "FunctionVersion"),
    ]),
    RestOperation::get(
        "getAlias",
        "/2015-03-31/functions/{FunctionName}/aliases/{Name}",
    ),
    RestOperation::get(
        "publishVersion",
        "/2015-03-31/functions/{FunctionName}/versions",
    )
    .with_method("POST"),
    RestOperation::get(
        "updateFunctionConfiguration",
        "/2015-03-31/functions/{FunctionName}/configuration",
    )
    .with_method("PUT"),
    RestOperation::get("deleteFunction", "/2015-03-31/functions/{FunctionName}")
        .with_method("DELETE")
        .with_query(QUALIFIER),
    RestOperation::get("getAccountSettings", "/2016-08-19/account-settings/"),
];

/// S3's actions in the AWS SDK form (REST-XML, `crate::invoke::services::s3_sdk`): the path
/// names where the bucket and key go, `payload` the member sent as the body.
const S3: &[RestOperation] = &[
    RestOperation::get("getObject", "/{Bucket}/{Key}"),
    RestOperation::get("headObject", "/{Bucket}/{Key}").with_method("HEAD"),
    RestOperation::get("deleteObject", "/{Bucket}/{Key}").with_method("DELETE"),
    RestOperation::get("putObject", "/{Bucket}/{Key}")
        .with_method("PUT")
        .with_payload("Body"),
    RestOperation::get("listObjectsV2", "/{Bucket}"),
    RestOperation::get("listObjects", "/{Bucket}"),
    RestOperation::get("listBuckets", "/"),
];

pub const SERVICES: &[Service] = &[
    Service {
        sdk_id: "sns",
        optimized_id: Some("sns"),
        optimized_actions: &["publish"],
        target_prefix: "",
        json_version: "",
        query_version: Some("2010-03-31"),
        signing_name: "sns",
        camel_case: false,
        sdk_error_prefix: "Sns",
        optimized_error_prefix: "SNS",
        optimized_base_exception: "AmazonSNSException",
        optimized_service_name: "AmazonSNS",
        rest: &[],
    },
    Service {
        sdk_id: "sqs",
        optimized_id: Some("sqs"),
        optimized_actions: &["sendMessage"],
        target_prefix: "AmazonSQS",
        json_version: "1.0",
        query_version: None,
        signing_name: "sqs",
        camel_case: false,
        sdk_error_prefix: "Sqs",
        optimized_error_prefix: "SQS",
        optimized_base_exception: "AmazonSQSException",
        optimized_service_name: "AmazonSQS",
        rest: &[],
    },
    Service {
        sdk_id: "dynamodb",
        optimized_id: Some("dynamodb"),
        optimized_actions: &["getItem", "putItem", "updateItem", "deleteItem"],
        target_prefix: "DynamoDB_20120810",
        json_version: "1.0",
        query_version: None,
        signing_name: "dynamodb",
        camel_case: false,
        sdk_error_prefix: "DynamoDb",
        optimized_error_prefix: "DynamoDB",
        optimized_base_exception: "AmazonDynamoDBException",
        optimized_service_name: "AmazonDynamoDBv2",
        rest: &[],
    },
    Service {
        sdk_id: "eventbridge",
        optimized_id: Some("events"),
        optimized_actions: &["putEvents"],
        target_prefix: "AWSEvents",
        json_version: "1.1",
        query_version: None,
        signing_name: "events",
        camel_case: false,
        sdk_error_prefix: "EventBridge",
        optimized_error_prefix: "EventBridge",
        optimized_base_exception: "AmazonEventBridgeException",
        optimized_service_name: "AmazonEventBridge",
        rest: &[],
    },
    Service {
        sdk_id: "sfn",
        optimized_id: None,
        optimized_actions: &[],
        target_prefix: "AWSStepFunctions",
        json_version: "1.0",
        query_version: None,
        signing_name: "states",
        camel_case: true,
        sdk_error_prefix: "Sfn",
        optimized_error_prefix: "StepFunctions",
        optimized_base_exception: "AWSStepFunctionsException",
        optimized_service_name: "AWSStepFunctions",
        rest: &[],
    },
    Service {
        sdk_id: "s3",
        optimized_id: None,
        optimized_actions: &[],
        target_prefix: "",
        json_version: "",
        query_version: None,
        signing_name: "s3",
        camel_case: false,
        sdk_error_prefix: "S3",
        optimized_error_prefix: "S3",
        optimized_base_exception: "AmazonS3Exception",
        optimized_service_name: "Amazon S3",
        rest: S3,
    },
    Service {
        sdk_id: "secretsmanager",
        optimized_id: None,
        optimized_actions: &[],
        target_prefix: "secretsmanager",
        json_version: "1.1",
        query_version: None,
        signing_name: "secretsmanager",
        camel_case: false,
        sdk_error_prefix: "SecretsManager",
        optimized_error_prefix: "SecretsManager",
        optimized_base_exception: "AWSSecretsManagerException",
        optimized_service_name: "AWSSecretsManager",
        rest: &[],
    },
    Service {
        sdk_id: "ssm",
        optimized_id: None,
        optimized_actions: &[],
        target_prefix: "AmazonSSM",
        json_version: "1.1",
        query_version: None,
        signing_name: "ssm",
        camel_case: false,
        sdk_error_prefix: "Ssm",
        optimized_error_prefix: "SSM",
        optimized_base_exception: "AWSSimpleSystemsManagementException",
        optimized_service_name: "AWSSimpleSystemsManagement",
        rest: &[],
    },
    Service {
        sdk_id: "lambda",
        optimized_id: None,
        optimized_actions: &[],
        target_prefix: "",
        json_version: "",
        query_version: None,
        signing_name: "lambda",
        camel_case: false,
        sdk_error_prefix: "Lambda",
        optimized_error_prefix: "Lambda",
        optimized_base_exception: "AWSLambdaException",
        optimized_service_name: "AWSLambda",
        rest: LAMBDA,
    },
];

impl Service {
    /// A REST-JSON service's operation of this action.
    pub fn rest_operation(&self, action: &str) -> Option<&'static RestOperation> {
        self.rest.iter().find(|op| op.action == action)
    }
}

/// The service and action a Task's resource names, when it is one of the table's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceCall {
    pub service: &'static Service,
    /// As the resource writes it (`sendMessage`).
    pub action: String,
    /// The AWS SDK form (`aws-sdk:…`) rather than the optimized one.
    pub sdk: bool,
}

impl ServiceCall {
    /// Parse `sqs:sendMessage` or `aws-sdk:sqs:sendMessage` (the resource after
    /// `arn:aws:states:::`, without `.waitForTaskToken`).
    pub fn parse(text: &str) -> Option<Self> {
        if let Some(rest) = text.strip_prefix("aws-sdk:") {
            let (id, action) = rest.split_once(':')?;
            let service = SERVICES.iter().find(|s| s.sdk_id == id)?;
            let valid = action.len() <= 64
                && action.starts_with(|c: char| c.is_ascii_lowercase())
                && action.chars().all(|c| c.is_ascii_alphanumeric())
                && (service.rest.is_empty() || service.rest_operation(action).is_some());
            return valid.then(|| Self {
                service,
                action: action.to_owned(),
                sdk: true,
            });
        }
        let (id, action) = text.split_once(':')?;
        let service = SERVICES.iter().find(|s| s.optimized_id == Some(id))?;
        service.optimized_actions.contains(&action).then(|| Self {
            service,
            action: action.to_owned(),
            sdk: false,
        })
    }

    /// The `resourceType` of the Task's events (`sqs`, `aws-sdk:sqs`).
    pub fn resource_type(&self) -> String {
        if self.sdk {
            format!("aws-sdk:{}", self.service.sdk_id)
        } else {
            self.service.optimized_id.unwrap_or_default().to_owned()
        }
    }

    /// The operation's name on the wire (`SendMessage`).
    pub fn operation(&self) -> String {
        let mut c = self.action.chars();
        match c.next() {
            Some(first) => first.to_ascii_uppercase().to_string() + c.as_str(),
            None => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_name_a_service_and_action_of_the_table() {
        let opt = ServiceCall::parse("sqs:sendMessage").expect("optimized");
        assert_eq!(
            (opt.service.sdk_id, opt.action.as_str(), opt.sdk),
            ("sqs", "sendMessage", false)
        );
        assert_eq!(opt.resource_type(), "sqs");
        assert_eq!(opt.operation(), "SendMessage");
        let events = ServiceCall::parse("events:putEvents").expect("optimized");
        assert_eq!(events.service.sdk_id, "eventbridge");
        let secrets = ServiceCall::parse("aws-sdk:secretsmanager:getSecretValue").expect("sdk");
        assert_eq!(secrets.operation(), "GetSecretValue");
        assert_eq!(secrets.resource_type(), "aws-sdk:secretsmanager");
        let sdk = ServiceCall::parse("aws-sdk:dynamodb:query").expect("sdk");
        assert_eq!((sdk.action.as_str(), sdk.sdk), ("query", true));
        assert_eq!(sdk.resource_type(), "aws-sdk:dynamodb");
        for unknown in [
            "sqs:receiveMessage",
            "s3:putObject",
            "aws-sdk:s3:createBucket",
            "aws-sdk:sqs:",
            "aws-sdk:sqs:Send-Message",
            "aws-sdk:lambda:createFunction",
            "sqs",
        ] {
            assert_eq!(ServiceCall::parse(unknown), None, "{unknown}");
        }
    }
}
