#!/usr/bin/env python3
"""Validates entries of the public streams against the JSON Schemas next to this file.

    validate.py FOLDER...        every *.json dump under FOLDER (redis-cli --json XRANGE:
                                 [[id, [field, value, ...]], ...]); the file name says the
                                 stream or its shard (…chat:stream:messages.json,
                                 …chat:stream:entities{p3}.json)
    validate.py --redis URL [FOLDER...]  also every entry of every shard of the public streams
                                 of the Redis at URL (redis:// or redis-cluster://host:port),
                                 read in pages (redis-py)
    validate.py --entry STREAM JSON   one entry: a JSON object of field -> string

A tagged key layout (chat:meta `partitions` a number) has one shard per partition of each
stream, named `{stream}{tag}` (docs/streams.md, *Shards*); every shard found is read.

A schema describes an entry as Redis holds it: every field a string. A field whose value is
JSON text (`row`, `data`, `options`) carries `contentMediaType: application/json` and a
`contentSchema`; JSON Schema leaves `contentSchema` to the application, so this program
decodes the text and applies it. Exit status 1 on any violation (each printed with its
entry and reason), or on `*.error` notes (a dump that could not be read). docs/streams.md.
"""
import json
import os
import re
import sys
from collections import Counter

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

HERE = os.path.dirname(os.path.abspath(__file__))
STREAMS = ("chat:stream:messages", "chat:stream:entities")
# A stream or one of its shards: the stream's name, then a hash tag or nothing.
SHARD = re.compile(r"^(chat:stream:(?:messages|entities))(\{[^{}]*\})?$")


def stream_of(name):
    """The public stream `name` is (a shard of), or None."""
    match = SHARD.match(name)
    return match.group(1) if match else None


def load_schemas():
    """name (file name without .schema.json) -> Validator, sharing one registry for $ref."""
    documents = {}
    for name in sorted(os.listdir(HERE)):
        if name.endswith(".schema.json"):
            with open(os.path.join(HERE, name), encoding="utf-8") as handle:
                documents[name[: -len(".schema.json")]] = json.load(handle)
    registry = Registry().with_resources(
        (document["$id"], Resource.from_contents(document)) for document in documents.values()
    )
    validators = {}
    for name, document in documents.items():
        Draft202012Validator.check_schema(document)
        validators[name] = Draft202012Validator(document, registry=registry)
    return validators


def schema_name(stream, fields):
    """The schema an entry is held to, or None when nothing says which."""
    if stream == "chat:stream:messages":
        kind = fields.get("kind")
        return kind if kind in ("message", "revoke") else None
    entity = fields.get("entity")
    return "entity-" + entity if isinstance(entity, str) and entity else None


def errors(validators, stream, fields):
    """The reasons `fields` (field -> value) breaks the contract; empty when it keeps it."""
    name = schema_name(stream, fields)
    if name is None or name not in validators:
        what = fields.get("kind") if stream == "chat:stream:messages" else fields.get("entity")
        return [f"no schema for this entry (kind/entity {what!r}): not part of the public contract"]
    validator = validators[name]
    reasons = [f"{name}: {'/'.join(map(str, e.absolute_path)) or '(entry)'}: {e.message}" for e in validator.iter_errors(fields)]
    for field, content in content_validators(validator):
        if not isinstance(fields.get(field), str):
            continue
        try:
            decoded = json.loads(fields[field])
        except ValueError as error:
            reasons.append(f"{name}: {field}: not JSON text ({error})")
            continue
        for e in content.iter_errors(decoded):
            where = "/".join(map(str, e.absolute_path))
            reasons.append(f"{name}: {field}{'/' + where if where else ''}: {e.message}")
    return reasons


CONTENT = {}


def content_validators(validator):
    """(field, validator of its decoded JSON text) for the fields with a contentSchema."""
    key = id(validator)
    if key not in CONTENT:
        CONTENT[key] = [
            (field, validator.evolve(schema=subschema["contentSchema"]))
            for field, subschema in validator.schema.get("properties", {}).items()
            if "contentSchema" in subschema
        ]
    return CONTENT[key]


def entry_fields(entry):
    """field -> value of a redis-cli --json entry, or None when a field repeats."""
    _, flat = entry
    fields = {}
    for index in range(0, len(flat) - 1, 2):
        if flat[index] in fields:
            return None
        fields[flat[index]] = flat[index + 1]
    return fields


def redis_client(url):
    """A client of the Redis at `url`; of the whole cluster for redis-cluster://."""
    import redis

    if url.startswith("redis-cluster://"):
        from redis.cluster import RedisCluster

        rest = url[len("redis-cluster://"):]
        credentials, _, hosts = rest.rpartition("@")
        first = hosts.split(",")[0].split("/")[0]
        return RedisCluster.from_url(f"redis://{credentials + '@' if credentials else ''}{first}", decode_responses=True)
    return redis.Redis.from_url(url, decode_responses=True)


def shards(client):
    """Every shard of the public streams the Redis holds, sorted (SCAN over every primary)."""
    found = {key for key in client.scan_iter(match="chat:stream:*", count=1000, _type="stream") if stream_of(key)}
    return sorted(found)


def redis_entries(url):
    """(source, stream, entry) of every entry of every shard of the public streams at `url`,
    1,000 a read."""
    client = redis_client(url)
    for shard in shards(client):
        stream = stream_of(shard)
        start = "-"
        while True:
            page = client.xrange(shard, min=start, max="+", count=1000)
            for entry_id, fields in page:
                flat = [item for pair in fields.items() for item in pair]
                yield f"{url} {shard}", stream, [entry_id, flat]
            if len(page) < 1000:
                break
            start = "(" + page[-1][0]


def folder_entries(folders, notes):
    """(file, stream, entry) of every dump under `folders`; `*.error` notes into `notes`."""
    for folder in folders:
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if name.endswith(".error"):
                with open(path, encoding="utf-8") as handle:
                    notes.append(f"{name}: {handle.read().strip()}")
                continue
            if not name.endswith(".json"):
                continue
            # {label}.{stream or shard}.json; the label has no ':'.
            shard = name[: -len(".json")]
            shard = shard[shard.find(".chat:stream:") + 1:] if ".chat:stream:" in shard else ""
            stream = stream_of(shard)
            if stream is None:
                continue
            with open(path, encoding="utf-8") as handle:
                entries = json.load(handle)
            for entry in entries:
                yield name, stream, entry


def check(validators, sources, notes):
    checked, failed, seen = 0, 0, Counter()
    for source, stream, entry in sources:
        checked += 1
        fields = entry_fields(entry)
        reasons = ["a field appears twice"] if fields is None else errors(validators, stream, fields)
        if fields is not None:
            seen[schema_name(stream, fields)] += 1
        if reasons:
            failed += 1
            if failed <= 50:
                print(f"INVALID {stream} {entry[0]} ({source})", file=sys.stderr)
                print(f"  entry: {json.dumps(fields or entry[1], ensure_ascii=False)[:2000]}", file=sys.stderr)
                for reason in reasons[:10]:
                    print(f"  reason: {reason}", file=sys.stderr)
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(seen.items(), key=lambda item: str(item[0])))
    print(f"stream contract: {checked} entries checked, {failed} invalid ({kinds or 'none'})")
    for note in notes:
        print(f"NOT COLLECTED {note}", file=sys.stderr)
    return 1 if failed or notes else 0


def main(arguments):
    validators = load_schemas()
    if len(arguments) == 3 and arguments[0] == "--entry":
        reasons = errors(validators, arguments[1], json.loads(arguments[2]))
        for reason in reasons:
            print(f"reason: {reason}")
        return 1 if reasons else 0
    notes, sources = [], []
    if len(arguments) >= 2 and arguments[0] == "--redis":
        sources.append(redis_entries(arguments[1]))
        arguments = arguments[2:]
    if any(argument.startswith("-") for argument in arguments) or not (sources or arguments):
        print(__doc__, file=sys.stderr)
        return 2
    sources.append(folder_entries(arguments, notes))
    return check(validators, (item for source in sources for item in source), notes)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
