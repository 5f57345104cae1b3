#!/usr/bin/env python3
"""Mirror infra/template.yaml onto the local emulators.

Reads the SAM template itself (cfn-lint's loader turns the short tags !Ref,
!Sub, !GetAtt... into their long forms), resolves intrinsics for a stack named
`relance-local` in us-east-1 / 123456789012, and creates on moto, idempotently:
DynamoDB tables, event buses, SQS queues, IAM roles, schedule groups, SES
identities and configuration sets, Secrets Manager secrets, and one EventBridge
rule per SAM `EventBridgeRule` event. Moto cannot invoke Lambda, so each rule
targets a mirror SQS queue `relance-local-<Function>-<Event>` that the local
dispatcher drains.

Writes <out>/stack.env (KEY=VALUE, for `cargo lambda watch --env-file` and for
`set -a; . .local/stack.env`) and <out>/targets.json (for the dispatcher).

Usage: provision.py --moto-url URL --ses-url URL [--out .local] [--template PATH]
Parameter overrides: RELANCE_LOCAL_SENDER (SenderAddress; SenderDomain follows
its domain), or RELANCE_LOCAL_PARAM_<Name>=value for any template parameter.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError
from cfnlint.decode import decode

STACK = "relance-local"
REGION = "us-east-1"
ACCOUNT = "123456789012"
PARTITION = "aws"
ROOT = Path(__file__).resolve().parents[2]

PSEUDO = {
    "AWS::StackName": STACK,
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": PARTITION,
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/local",
    "AWS::NoValue": None,
}

# Property that carries a resource's explicit physical name, per type.
NAME_PROPERTY = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Events::EventBus": "Name",
    "AWS::SQS::Queue": "QueueName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Scheduler::ScheduleGroup": "Name",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::SES::ConfigurationSet": "Name",
    "AWS::SES::EmailIdentity": "EmailIdentity",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::S3::Bucket": "BucketName",
}

RULE_EVENT_TYPES = ("EventBridgeRule", "CloudWatchEvent")


class ProvisionError(Exception):
    pass


def fail(msg: str) -> None:
    raise ProvisionError(msg)


def plain(node: Any) -> Any:
    """cfn-lint nodes (str/dict/list subclasses with marks) -> plain Python."""
    return json.loads(json.dumps(node))


class Stack:
    """The template plus what is known of each resource's local physical identity."""

    def __init__(self, template: dict[str, Any]):
        self.t = template
        self.resources: dict[str, Any] = template.get("Resources", {})
        # logical id -> {"Ref": value, "<Attr>": value, ...}
        self.phys: dict[str, dict[str, Any]] = {}
        self.params = self._parameters()
        self.conditions: dict[str, bool] = {}
        for name in template.get("Conditions", {}):
            self.condition(name)

    # ---------------------------------------------------------- parameters
    def _parameters(self) -> dict[str, Any]:
        out = {}
        for name, spec in self.t.get("Parameters", {}).items():
            if f"RELANCE_LOCAL_PARAM_{name}" in os.environ:
                out[name] = os.environ[f"RELANCE_LOCAL_PARAM_{name}"]
            elif "Default" in spec:
                out[name] = spec["Default"]
            else:
                fail(f"parameter {name} has no Default; set RELANCE_LOCAL_PARAM_{name}")
        # Locally, unsubscribe links point at webhook-ingest under `cargo lambda watch`.
        if not out.get("PublicBaseUrl"):
            out["PublicBaseUrl"] = os.environ.get(
                "RELANCE_LOCAL_PUBLIC_URL", "http://127.0.0.1:9000/lambda-url/webhook-ingest")
        sender = os.environ.get("RELANCE_LOCAL_SENDER")
        if sender:
            out["SenderAddress"] = sender
            if "RELANCE_LOCAL_PARAM_SenderDomain" not in os.environ and "@" in sender:
                out["SenderDomain"] = sender.rsplit("@", 1)[1]
        return out

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = bool(self.resolve(self.t["Conditions"][name]))
        return self.conditions[name]

    # ---------------------------------------------------------- names
    def name_of(self, lid: str) -> str:
        res = self.resources[lid]
        prop = NAME_PROPERTY.get(res["Type"])
        given = res.get("Properties", {}).get(prop) if prop else None
        name = str(self.resolve(given)) if given is not None else f"{STACK}-{lid}"
        # S3 bucket names are lower case (CloudFormation lower-cases the names it makes).
        return name.lower() if res["Type"] == "AWS::S3::Bucket" else name

    def ref(self, lid: str) -> Any:
        if lid in self.params:
            return self.params[lid]
        if lid in PSEUDO:
            return PSEUDO[lid]
        return self.attr(lid, "Ref")

    def attr(self, lid: str, attr: str) -> Any:
        if lid not in self.resources:
            fail(f"reference to unknown resource or parameter {lid!r}")
        known = self.phys.get(lid, {})
        if attr in known:
            return known[attr]
        derived = self._derive(lid, attr)
        if derived is None:
            fail(f"{lid}.{attr} is not known locally (resource not provisioned yet?)")
        return derived

    def _derive(self, lid: str, attr: str) -> Any:
        """Physical values that follow from the name alone."""
        typ = self.resources[lid]["Type"]
        name = self.name_of(lid)
        arn = f"arn:{PARTITION}"
        table = {
            "AWS::DynamoDB::Table": {"Ref": name, "Arn": f"{arn}:dynamodb:{REGION}:{ACCOUNT}:table/{name}"},
            "AWS::Events::EventBus": {"Ref": name, "Name": name, "Arn": f"{arn}:events:{REGION}:{ACCOUNT}:event-bus/{name}"},
            "AWS::SQS::Queue": {"QueueName": name, "Arn": f"{arn}:sqs:{REGION}:{ACCOUNT}:{name}"},
            "AWS::IAM::Role": {"Ref": name, "Arn": f"{arn}:iam::{ACCOUNT}:role/{name}"},
            "AWS::Scheduler::ScheduleGroup": {"Ref": name, "Arn": f"{arn}:scheduler:{REGION}:{ACCOUNT}:schedule-group/{name}"},
            "AWS::SES::ConfigurationSet": {"Ref": name},
            "AWS::SES::EmailIdentity": {"Ref": name},
            "AWS::Serverless::Function": {"Ref": name, "Arn": f"{arn}:lambda:{REGION}:{ACCOUNT}:function:{name}"},
            "AWS::Lambda::Function": {"Ref": name, "Arn": f"{arn}:lambda:{REGION}:{ACCOUNT}:function:{name}"},
            "AWS::S3::Bucket": {"Ref": name, "Arn": f"{arn}:s3:::{name}"},
        }
        return table.get(typ, {}).get(attr)

    # ---------------------------------------------------------- intrinsics
    def resolve(self, v: Any) -> Any:
        if isinstance(v, list):
            return [x for x in (self.resolve(i) for i in v) if x is not None]
        if not isinstance(v, dict):
            return v
        if len(v) == 1:
            (k, a), = v.items()
            if k == "Ref":
                return self.ref(a)
            if k == "Fn::GetAtt":
                lid, at = a.split(".", 1) if isinstance(a, str) else a
                return self.attr(lid, self.resolve(at))
            if k == "Fn::Sub":
                return self._sub(a)
            if k == "Fn::Join":
                sep, items = a
                return self.resolve(sep).join(str(x) for x in self.resolve(items))
            if k == "Fn::Select":
                i, items = a
                return self.resolve(items)[int(self.resolve(i))]
            if k == "Fn::Split":
                sep, s = a
                return str(self.resolve(s)).split(self.resolve(sep))
            if k == "Fn::If":
                c, yes, no = a
                return self.resolve(yes if self.condition(c) else no)
            if k == "Fn::Equals":
                x, y = (self.resolve(i) for i in a)
                return str(x) == str(y)
            if k == "Fn::Not":
                return not self.resolve(a[0])
            if k == "Fn::And":
                return all(self.resolve(i) for i in a)
            if k == "Fn::Or":
                return any(self.resolve(i) for i in a)
            if k == "Condition":
                return self.condition(a)
            if k.startswith("Fn::"):
                fail(f"intrinsic {k} is not supported by provision.py")
        return {k: r for k, r in ((k, self.resolve(x)) for k, x in v.items()) if r is not None}

    def _sub(self, a: Any) -> str:
        text, extra = (a, {}) if isinstance(a, str) else (a[0], a[1])
        local = {k: self.resolve(x) for k, x in extra.items()}

        def one(m: re.Match[str]) -> str:
            key = m.group(1)
            if key.startswith("!"):
                return "${" + key[1:] + "}"
            if key in local:
                return str(local[key])
            if key in PSEUDO or key in self.params:
                return str(self.ref(key))
            if "." in key:
                lid, at = key.split(".", 1)
                return str(self.attr(lid, at))
            return str(self.ref(key))

        return re.sub(r"\$\{([^}]+)\}", one, text)


# ====================================================================== AWS
class Local:
    def __init__(self, moto_url: str, ses_url: str):
        kw = dict(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
        self.moto_url, self.ses_url = moto_url, ses_url
        self.c = {s: boto3.client(s, endpoint_url=moto_url, **kw) for s in
                  ("dynamodb", "events", "sqs", "iam", "scheduler", "sesv2", "ses", "secretsmanager", "s3")}
        self.created: list[str] = []
        self.notes: list[str] = []

    def did(self, what: str) -> None:
        self.created.append(what)


def code(e: ClientError) -> str:
    return e.response.get("Error", {}).get("Code", "")


def create_queue(local: Local, st: Stack, lid: str, props: dict[str, Any]) -> None:
    name = st.name_of(lid)
    attrs = {}
    for key in ("DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod",
                "ReceiveMessageWaitTimeSeconds", "VisibilityTimeout", "SqsManagedSseEnabled",
                "FifoQueue", "ContentBasedDeduplication"):
        if key in props:
            val = props[key]
            attrs[key] = str(val).lower() if isinstance(val, bool) else str(val)
    if "RedrivePolicy" in props:
        attrs["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
    sqs = local.c["sqs"]
    try:
        url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
    except ClientError as e:
        if code(e) not in ("QueueAlreadyExists", "QueueNameExists"):
            raise
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    st.phys.setdefault(lid, {}).update({"Ref": url, "QueueUrl": url})
    local.did(f"sqs queue {name}")


def mirror_queue(local: Local, name: str) -> tuple[str, str]:
    url = local.c["sqs"].create_queue(QueueName=name)["QueueUrl"]
    arn = local.c["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def create_table(local: Local, st: Stack, lid: str, p: dict[str, Any]) -> None:
    name = st.name_of(lid)
    ddb = local.c["dynamodb"]
    args: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": p["AttributeDefinitions"],
        "KeySchema": p["KeySchema"],
        "BillingMode": p.get("BillingMode", "PROVISIONED"),
    }
    if args["BillingMode"] == "PROVISIONED":
        args["ProvisionedThroughput"] = p.get("ProvisionedThroughput",
                                              {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    if p.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = [
            {k: v for k, v in g.items() if k in ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")}
            for g in p["GlobalSecondaryIndexes"]
        ]
    if p.get("LocalSecondaryIndexes"):
        args["LocalSecondaryIndexes"] = p["LocalSecondaryIndexes"]
    if p.get("StreamSpecification"):
        args["StreamSpecification"] = {"StreamEnabled": True, **p["StreamSpecification"]}
    if p.get("SSESpecification", {}).get("SSEEnabled"):
        args["SSESpecification"] = {"Enabled": True}
    try:
        ddb.create_table(**args)
        local.did(f"dynamodb table {name} ({', '.join(g['IndexName'] for g in args.get('GlobalSecondaryIndexes', []))})")
    except ClientError as e:
        if code(e) != "ResourceInUseException":
            raise
        local.did(f"dynamodb table {name} (exists)")
    ttl = p.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        current = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
                "AttributeName": ttl["AttributeName"], "Enabled": True})
    if p.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
        try:
            ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
                "PointInTimeRecoveryEnabled": True})
        except ClientError as e:  # only a nicety locally
            local.notes.append(f"PITR not set on {name}: {code(e)}")


def create_bus(local: Local, st: Stack, lid: str, p: dict[str, Any]) -> None:
    name = st.name_of(lid)
    try:
        local.c["events"].create_event_bus(Name=name)
    except ClientError as e:
        if code(e) != "ResourceAlreadyExistsException":
            raise
    local.did(f"event bus {name}")


def create_role(local: Local, st: Stack, lid: str, p: dict[str, Any]) -> None:
    name = st.name_of(lid)
    iam = local.c["iam"]
    try:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(p["AssumeRolePolicyDocument"]))
    except ClientError as e:
        if code(e) != "EntityAlreadyExists":
            raise
    for pol in p.get("Policies", []):
        iam.put_role_policy(RoleName=name, PolicyName=pol["PolicyName"],
                            PolicyDocument=json.dumps(pol["PolicyDocument"]))
    local.did(f"iam role {name}")


def create_schedule_group(local: Local, st: Stack, lid: str, p: dict[str, Any]) -> None:
    name = st.name_of(lid)
    try:
        local.c["scheduler"].create_schedule_group(Name=name)
    except ClientError as e:
        if code(e) != "ConflictException":
            raise
    local.did(f"schedule group {name}")


def create_secret(local: Local, st: Stack, lid: str, p: dict[str, Any]) -> None:
    name = st.name_of(lid)
    sm = local.c["secretsmanager"]
    try:
        args = {"Name": name, "SecretString": p.get("SecretString", "{}")}
        if p.get("Description"):
            args["Description"] = p["Description"]
        arn = sm.create_secret(**args)["ARN"]
        local.did(f"secret {name}")
    except ClientError as e:
        if code(e) != "ResourceExistsException":
            raise
        arn = sm.describe_secret(SecretId=name)["ARN"]  # keep a value put locally
        local.did(f"secret {name} (exists, value kept)")
    st.phys.setdefault(lid, {}).update({"Ref": arn, "Id": arn})


def create_configuration_set(local: Local, st: Stack, lid: str, p: dict[str, Any]) -> None:
    name = st.name_of(lid)
    try:
        local.c["sesv2"].create_configuration_set(ConfigurationSetName=name)
    except ClientError as e:
        if code(e) not in ("ConfigurationSetAlreadyExistsException", "AlreadyExistsException"):
            raise
    local.did(f"ses configuration set {name}")


def create_email_identity(local: Local, st: Stack, lid: str, p: dict[str, Any]) -> None:
    name = st.name_of(lid)
    try:
        local.c["sesv2"].create_email_identity(EmailIdentity=name)
    except ClientError as e:
        if code(e) != "AlreadyExistsException":
            raise
    # moto's SESv2 rejects unverified senders; verify through its SES v1 API.
    if "@" in name:
        local.c["ses"].verify_email_identity(EmailAddress=name)
    else:
        local.c["ses"].verify_domain_identity(Domain=name)
    local.did(f"ses identity {name} (verified on moto)")


def create_bucket(local: Local, st: Stack, lid: str, p: dict[str, Any]) -> None:
    """The bucket with the template's encryption, public access block and lifecycle, so
    tests against moto see the same settings (moto stores them; it enforces none)."""
    name = st.name_of(lid)
    s3 = local.c["s3"]
    try:
        s3.create_bucket(Bucket=name)
    except ClientError as e:
        if code(e) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    if "BucketEncryption" in p:
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": r["ServerSideEncryptionByDefault"]}
                      for r in p["BucketEncryption"]["ServerSideEncryptionConfiguration"]]})
    if "PublicAccessBlockConfiguration" in p:
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=p["PublicAccessBlockConfiguration"])
    rules = (p.get("LifecycleConfiguration") or {}).get("Rules") or []
    if rules:
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [
            {"ID": r.get("Id", "rule"), "Status": r["Status"], "Filter": {"Prefix": ""},
             "Expiration": {"Days": int(r["ExpirationInDays"])}} for r in rules]})
    local.did(f"bucket {name}")


CREATORS = {
    "AWS::SQS::Queue": create_queue,
    "AWS::DynamoDB::Table": create_table,
    "AWS::Events::EventBus": create_bus,
    "AWS::Scheduler::ScheduleGroup": create_schedule_group,
    "AWS::SecretsManager::Secret": create_secret,
    "AWS::SES::ConfigurationSet": create_configuration_set,
    "AWS::SES::EmailIdentity": create_email_identity,
    "AWS::IAM::Role": create_role,
    "AWS::S3::Bucket": create_bucket,
}
# Queues and secrets first: their Ref (URL, ARN with suffix) comes from moto.
ORDER = ["AWS::SQS::Queue", "AWS::SecretsManager::Secret", "AWS::DynamoDB::Table",
         "AWS::Events::EventBus", "AWS::Scheduler::ScheduleGroup", "AWS::IAM::Role",
         "AWS::SES::ConfigurationSet", "AWS::SES::EmailIdentity", "AWS::S3::Bucket"]
SKIPPED = {  # type -> why it has no local counterpart
    "AWS::SQS::QueuePolicy": "moto does not enforce queue policies",
    "AWS::S3::BucketPolicy": "moto does not enforce bucket policies",
    "AWS::CloudWatch::Alarm": "no alarms locally (make lint-infra checks that every queue and function has one)",
    "AWS::SNS::Topic": "alarms only: nothing local publishes to it",
    "AWS::SNS::Subscription": "alarms only",
    "AWS::SES::ConfigurationSetEventDestination":
        "moto has no CreateConfigurationSetEventDestination; put aws.ses events on the default bus yourself",
}


def enabled(st: Stack, res: dict[str, Any]) -> bool:
    return "Condition" not in res or st.condition(res["Condition"])


def queue_url_for_arn(st: Stack, arn: str | None) -> str | None:
    if not arn:
        return None
    for lid, res in st.resources.items():
        if res["Type"] == "AWS::SQS::Queue" and st.attr(lid, "Arn") == arn:
            return st.attr(lid, "Ref")
    fail(f"no local queue has ARN {arn}")
    return None


def functions(st: Stack) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(logical id, resource, properties merged with Globals.Function) per SAM function."""
    glob = st.t.get("Globals", {}).get("Function", {})
    out = []
    for lid, res in st.resources.items():
        if res["Type"] != "AWS::Serverless::Function" or not enabled(st, res):
            continue
        props = {**glob, **res.get("Properties", {})}
        env = {**glob.get("Environment", {}).get("Variables", {}),
               **res.get("Properties", {}).get("Environment", {}).get("Variables", {})}
        props["Environment"] = {"Variables": env}
        out.append((lid, res, props))
    return out


def provision_rules(local: Local, st: Stack) -> list[dict[str, Any]]:
    ev = local.c["events"]
    rules = []
    for lid, res, props in functions(st):
        binary = res.get("Metadata", {}).get("BuildProperties", {}).get("Binary", lid)
        for ename, event in (props.get("Events") or {}).items():
            if event.get("Type") not in RULE_EVENT_TYPES:
                continue
            p = st.resolve(event.get("Properties", {}))
            bus = str(p.get("EventBusName") or "default")
            bus = bus.rsplit("/", 1)[-1] if bus.startswith("arn:") else bus
            rule = p.get("RuleName") or f"{STACK}-{lid}-{ename}"
            args = {"Name": rule, "EventBusName": bus, "EventPattern": json.dumps(p["Pattern"]),
                    "State": p.get("State", "ENABLED")}
            ev.put_rule(**args)
            url, arn = mirror_queue(local, f"{STACK}-{lid}-{ename}")
            target: dict[str, Any] = {"Id": f"{lid}{ename}LambdaTarget", "Arn": arn}
            for key in ("Input", "InputPath"):
                if key in p:
                    target[key] = p[key]
            if "InputTransformer" in p:
                target["InputTransformer"] = p["InputTransformer"]
            retry = p.get("RetryPolicy") or {}
            if retry:
                target["RetryPolicy"] = {k: int(v) for k, v in retry.items()}
            dlq = p.get("DeadLetterConfig") or {}
            dlq_arn = dlq.get("Arn")
            if not dlq_arn and dlq.get("Type") == "SQS":  # SAM would create <rule>Queue
                _, dlq_arn = mirror_queue(local, dlq.get("QueueLogicalId") or f"{STACK}-{lid}{ename}Queue")
            if dlq_arn:
                target["DeadLetterConfig"] = {"Arn": dlq_arn}
            out = ev.put_targets(Rule=rule, EventBusName=bus, Targets=[target])
            if out.get("FailedEntryCount"):
                fail(f"put_targets on {rule}: {out['FailedEntries']}")
            dlq_url = None
            if dlq_arn:
                dlq_url = local.c["sqs"].get_queue_url(QueueName=dlq_arn.rsplit(":", 1)[-1])["QueueUrl"]
            rules.append({
                "function": binary,
                "rule": rule,
                "event_bus": bus,
                "queue_url": url,
                "dead_letter_queue_url": dlq_url,
                "maximum_retry_attempts": int(retry.get("MaximumRetryAttempts", 185)),
                "maximum_event_age_seconds": int(retry.get("MaximumEventAgeInSeconds", 86400)),
            })
            local.did(f"rule {bus}/{rule} -> sqs {url.rsplit('/', 1)[-1]}")
    return rules


def provision_schedules(local: Local, st: Stack) -> None:
    """SAM ScheduleV2 events become real (never firing) schedules on moto, for inspection."""
    sch = local.c["scheduler"]
    for lid, res, props in functions(st):
        for ename, event in (props.get("Events") or {}).items():
            if event.get("Type") != "ScheduleV2":
                continue
            p = st.resolve(event.get("Properties", {}))
            name = p.get("Name") or f"{lid}{ename}"
            target = {"Arn": st.attr(lid, "Arn"),
                      "RoleArn": p.get("RoleArn") or f"arn:{PARTITION}:iam::{ACCOUNT}:role/{STACK}-{lid}{ename}Role"}
            if p.get("RetryPolicy"):
                target["RetryPolicy"] = {k: int(v) for k, v in p["RetryPolicy"].items()}
            if p.get("DeadLetterConfig", {}).get("Arn"):
                target["DeadLetterConfig"] = {"Arn": p["DeadLetterConfig"]["Arn"]}
            if "Input" in p:
                target["Input"] = p["Input"]
            args = {"Name": name, "ScheduleExpression": p["ScheduleExpression"], "Target": target,
                    "FlexibleTimeWindow": p.get("FlexibleTimeWindow", {"Mode": "OFF"})}
            for key in ("ScheduleExpressionTimezone", "Description", "State", "GroupName"):
                if key in p:
                    args[key] = p[key]
            try:
                sch.create_schedule(**args)
            except ClientError as e:
                if code(e) != "ConflictException":
                    raise
                sch.update_schedule(**args)
            local.did(f"schedule {args.get('GroupName', 'default')}/{name} ({p['ScheduleExpression']}, never fires locally)")


def queue_sources(st: Stack) -> list[dict[str, Any]]:
    """SAM SQS events (event source mappings): the dispatcher polls them for the function."""
    out = []
    for lid, res, props in functions(st):
        binary = res.get("Metadata", {}).get("BuildProperties", {}).get("Binary", lid)
        for ename, event in (props.get("Events") or {}).items():
            if event.get("Type") != "SQS":
                continue
            p = st.resolve(event.get("Properties", {}))
            out.append({
                "function": binary,
                "source": f"{lid}.{ename}",
                "queue_url": queue_url_for_arn(st, p["Queue"]),
                "batch_size": int(p.get("BatchSize", 10)),
                "report_batch_item_failures": "ReportBatchItemFailures" in (p.get("FunctionResponseTypes") or []),
            })
    return out


def function_targets(st: Stack) -> list[dict[str, Any]]:
    out = []
    for lid, res, props in functions(st):
        cfg = st.resolve(props.get("EventInvokeConfig") or {})
        on_failure = (cfg.get("DestinationConfig") or {}).get("OnFailure") or {}
        dest = on_failure.get("Destination") if on_failure.get("Type", "SQS") == "SQS" else None
        out.append({
            "logical_id": lid,
            "binary": res.get("Metadata", {}).get("BuildProperties", {}).get("Binary", lid),
            "arn": st.attr(lid, "Arn"),
            "maximum_retry_attempts": int(cfg.get("MaximumRetryAttempts", 2)),
            "on_failure_queue_url": queue_url_for_arn(st, dest),
        })
    return out


def function_environment(st: Stack) -> dict[str, str]:
    env: dict[str, str] = {}
    owner: dict[str, str] = {}
    for lid, _res, props in functions(st):
        for key, raw in props["Environment"]["Variables"].items():
            val = st.resolve(raw)
            val = "" if val is None else str(val)
            if key in env and env[key] != val:
                fail(f"environment variable {key} differs: {owner[key]} has {env[key]!r}, {lid} has {val!r}")
            env[key], owner[key] = val, lid
    return env


def write_env(path: Path, values: dict[str, str]) -> None:
    lines = []
    for key, val in values.items():
        # No quoting: the file must read the same through dotenv and `. file`.
        if re.search(r"[\s'\"$`\\#;&|<>()]", val):
            fail(f"{key}={val!r} cannot be written unquoted to {path.name}")
        lines.append(f"{key}={val}")
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moto-url", required=True)
    ap.add_argument("--ses-url", required=True)
    ap.add_argument("--out", default=str(ROOT / ".local"))
    ap.add_argument("--template", default=str(ROOT / "infra" / "template.yaml"))
    a = ap.parse_args()

    template, matches = decode(a.template)
    if template is None:
        fail(f"cannot read {a.template}: {matches}")
    st = Stack(plain(template))
    local = Local(a.moto_url.rstrip("/"), a.ses_url.rstrip("/"))

    seen_types = set()
    # Queues with a RedrivePolicy name their dead-letter queue: create those first.
    by_dependency = sorted(st.resources.items(), key=lambda kv: "RedrivePolicy" in kv[1].get("Properties", {}))
    for typ in ORDER:
        for lid, res in by_dependency:
            if res["Type"] == typ and enabled(st, res):
                CREATORS[typ](local, st, lid, st.resolve(res.get("Properties", {})))
    for res in st.resources.values():
        seen_types.add(res["Type"])
    for typ in sorted(seen_types & SKIPPED.keys()):
        local.notes.append(f"skipped {typ}: {SKIPPED[typ]}")

    rules = provision_rules(local, st)
    provision_schedules(local, st)

    groups = [st.name_of(lid) for lid, r in st.resources.items()
              if r["Type"] == "AWS::Scheduler::ScheduleGroup" and enabled(st, r)]
    targets = {"stack": STACK, "functions": function_targets(st), "rules": rules,
               "queue_sources": queue_sources(st), "schedule_groups": groups}

    env = {
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": local.moto_url,
        "AWS_ENDPOINT_URL_SESV2": local.ses_url,
        "RELANCE_MOTO_URL": local.moto_url,
        "RELANCE_SES_EMULATOR_URL": local.ses_url,
        "RELANCE_STACK": STACK,
        # The functions' AWS call timeouts (relance::config::Budget), loosened: moto answers
        # one request at a time on 2 cores, far slower than AWS under a test's load.
        "RELANCE_AWS_ATTEMPT_TIMEOUT_MS": "15000",
        "RELANCE_AWS_OPERATION_TIMEOUT_MS": "60000",
    }
    fenv = function_environment(st)
    for key in sorted(fenv):
        if key in env:
            fail(f"function variable {key} clashes with a local stack variable")
        env[key] = fenv[key]

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    write_env(out / "stack.env", env)
    tmp = out / "targets.json.tmp"
    tmp.write_text(json.dumps(targets, indent=2) + "\n")
    tmp.replace(out / "targets.json")

    print(f"provision.py: {STACK} on {local.moto_url} (mail: {local.ses_url})")
    for line in local.created:
        print(f"  + {line}")
    for line in local.notes:
        print(f"  - {line}")
    print(f"  wrote {out / 'stack.env'} ({len(env)} variables) and {out / 'targets.json'}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ProvisionError as e:
        print(f"provision.py: {e}", file=sys.stderr)
        sys.exit(1)
