#!/usr/bin/env python3
"""Write src/invoke/output-shapes.json: the output shapes of the AWS operations Task states
call, from botocore's service models (Apache License 2.0, (c) Amazon.com, Inc.), reduced to
what TestState's `mock.fieldValidationMode` checks: types, required members, ranges.

Run with the test environment's Python (it has botocore):
    .venv-test/bin/python scripts/output-shapes.py
"""
import json
import os
import sys

import botocore.session

# The SDK ids Task states use (aws-sdk:ID:action), and botocore's name of each.
SERVICES = {
    "lambda": "lambda",
    "sfn": "stepfunctions",
    "sqs": "sqs",
    "sns": "sns",
    "dynamodb": "dynamodb",
    "eventbridge": "events",
    "s3": "s3",
    "kms": "kms",
    "secretsmanager": "secretsmanager",
}

session = botocore.session.get_session()
shapes = {}
operations = {}


def lower_first(s):
    return s[:1].lower() + s[1:]


def upper_first(s):
    return s[:1].upper() + s[1:]


def reduce(service, shape, seen):
    key = "%s.%s" % (service, shape.name)
    if key in shapes or key in seen:
        return key
    seen.add(key)
    t = shape.type_name
    out = {"t": t}
    meta = shape.metadata
    if "min" in meta and t in ("integer", "long", "double", "float"):
        out["min"] = meta["min"]
    if "max" in meta and t in ("integer", "long", "double", "float"):
        out["max"] = meta["max"]
    if t == "structure":
        out["m"] = {upper_first(n): reduce(service, s, seen) for n, s in shape.members.items()}
        req = [upper_first(n) for n in shape.required_members]
        if req:
            out["r"] = req
    elif t == "list":
        out["e"] = reduce(service, shape.member, seen)
    elif t == "map":
        out["v"] = reduce(service, shape.value, seen)
    shapes[key] = out
    return key


for sdk_id, name in SERVICES.items():
    model = session.get_service_model(name)
    ops = {}
    for op_name in model.operation_names:
        op = model.operation_model(op_name)
        if op.output_shape is not None:
            ops[lower_first(op_name)] = reduce(sdk_id, op.output_shape, set())
    operations[sdk_id] = ops

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "..", "src", "invoke", "output-shapes.json")
with open(path, "w") as f:
    json.dump({"botocore": botocore.__version__, "operations": operations, "shapes": shapes},
              f, separators=(",", ":"), sort_keys=True)
    f.write("\n")
print("%s: %d operations, %d shapes, %d bytes" % (
    path, sum(len(o) for o in operations.values()), len(shapes), os.path.getsize(path)), file=sys.stderr)
