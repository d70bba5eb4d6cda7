"""oaschema — docs/openapi.json for the API tests: the document, a validator and a generator.

The validator checks an instance against an OpenAPI 3.0 schema object (the subset the document uses:
type, required, properties, additionalProperties false, items, enum, nullable, allOf, $ref,
minimum/maximum, exclusiveMinimum, minLength/maxLength, pattern, maxItems/minItems, date and date-time
formats). The generator makes instances from the same schemas: valid ones (random within the bounds,
with required fields always present) and mutations that the schema refuses — a wrong type, a missing
required field, a null where the schema forbids it, a string over maxLength, a number out of range,
an unknown property. It is property-based testing written out: a seeded random.Random drives every
choice, so a failure is reproduced by the same seed and count.

Used by test_openapi.py (the document and live answers), test_conformance.py (every operation,
generated and mutated) and test_access_matrix.py (the routes).
"""
import json
import os
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("NX_SOURCE_DIR") or os.path.join(HERE, "..", "..")
DOC_PATH = os.path.join(SRC, "docs", "openapi.json")
METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")

with open(DOC_PATH, encoding="utf-8") as _f:
    DOC_TEXT = _f.read()
DOC = json.loads(DOC_TEXT)


def resolve(pointer):
    """The object a local $ref ("#/components/schemas/X") points at; KeyError when it does not exist."""
    if not pointer.startswith("#/"):
        raise KeyError(pointer)
    node = DOC
    for part in pointer[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(part)]
        else:
            node = node[part]
    return node


def deref(node):
    """node with $ref chains followed."""
    while isinstance(node, dict) and "$ref" in node:
        node = resolve(node["$ref"])
    return node


DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def type_ok(t, v):
    if t == "object":
        return isinstance(v, dict)
    if t == "array":
        return isinstance(v, list)
    if t == "string":
        return isinstance(v, str)
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "boolean":
        return isinstance(v, bool)
    return False


def validate(schema, v, where="$", errors=None):
    """Errors (a list of strings) of instance v against schema; empty when it conforms."""
    if errors is None:
        errors = []
    if "$ref" in schema:
        try:
            target = resolve(schema["$ref"])
        except (KeyError, IndexError, ValueError, TypeError):
            errors.append(f"{where}: unresolved $ref {schema['$ref']}")
            return errors
        return validate(target, v, where, errors)
    if v is None:
        if not schema.get("nullable") and ("type" in schema or "properties" in schema):
            errors.append(f"{where}: null but not nullable")
        return errors
    for sub in schema.get("allOf", []):
        validate(sub, v, where, errors)
    t = schema.get("type")
    if t and not type_ok(t, v):
        errors.append(f"{where}: {type(v).__name__} {str(v)[:40]!r} is not {t}")
        return errors
    if "enum" in schema and v not in schema["enum"]:
        errors.append(f"{where}: {v!r} not in {schema['enum']}")
    if isinstance(v, str):
        if "maxLength" in schema and len(v) > schema["maxLength"]:
            errors.append(f"{where}: longer than {schema['maxLength']}")
        if "minLength" in schema and len(v) < schema["minLength"]:
            errors.append(f"{where}: shorter than {schema['minLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], v):
            errors.append(f"{where}: {v[:40]!r} does not match {schema['pattern']}")
        if schema.get("format") == "date" and not DATE_RE.match(v):
            errors.append(f"{where}: {v!r} is not a date")
        if schema.get("format") == "date-time" and not DATETIME_RE.match(v):
            errors.append(f"{where}: {v!r} is not a date-time")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if "minimum" in schema:
            if schema.get("exclusiveMinimum") and v <= schema["minimum"]:
                errors.append(f"{where}: {v} <= exclusive minimum {schema['minimum']}")
            elif v < schema["minimum"]:
                errors.append(f"{where}: {v} < minimum {schema['minimum']}")
        if "maximum" in schema and v > schema["maximum"]:
            errors.append(f"{where}: {v} > maximum {schema['maximum']}")
    if isinstance(v, dict):
        for k in schema.get("required", []):
            if k not in v:
                errors.append(f"{where}: missing required {k!r}")
        props = schema.get("properties", {})
        for k, sub in props.items():
            if k in v:
                validate(sub, v[k], f"{where}.{k}", errors)
        if schema.get("additionalProperties") is False:
            for k in v:
                if k not in props:
                    errors.append(f"{where}: property {k!r} not in the schema")
        elif isinstance(schema.get("additionalProperties"), dict):
            for k in v:
                if k not in props:
                    validate(schema["additionalProperties"], v[k], f"{where}.{k}", errors)
    if isinstance(v, list):
        if "maxItems" in schema and len(v) > schema["maxItems"]:
            errors.append(f"{where}: more than {schema['maxItems']} items")
        if "minItems" in schema and len(v) < schema["minItems"]:
            errors.append(f"{where}: fewer than {schema['minItems']} items")
        if "items" in schema:
            for i, x in enumerate(v):
                validate(schema["items"], x, f"{where}[{i}]", errors)
    return errors


def doc_operations():
    """(METHOD, path template, operation object) for every operation of the document."""
    for path, item in DOC.get("paths", {}).items():
        for m, o in item.items():
            if m in METHODS:
                yield m.upper(), path, o


def operation_parameters(o):
    return [deref(p) for p in o.get("parameters", [])]


def server_routes(binary):
    """{(METHOD, pattern): public?} of `nuanxin routes`, HEAD routes implied by GET left out.
    Raises RuntimeError when the command fails or prints a line it should not."""
    p = subprocess.run([binary, "routes"], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("nuanxin routes failed: " + p.stderr)
    routes = {}
    for line in p.stdout.splitlines():
        parts = line.split()
        if not parts:
            continue
        if not (len(parts) in (2, 3) and (len(parts) == 2 or parts[2] == "public")):
            raise RuntimeError(f"routes line {line!r}")
        routes[(parts[0], parts[1])] = len(parts) == 3
    gets = {path for (m, path) in routes if m == "GET"}
    return {k: v for k, v in routes.items() if not (k[0] == "HEAD" and k[1] in gets)}


# ---- the generator ----

CJK = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏锺汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文社区网格楼栋单元小区"
ASCII = "abcdefghijklmnopqrstuvwxyz0123456789"


class Gen:
    """Instances of schemas, driven by one random.Random. hint(name, schema) may return a value for
    a property by its name (IDs that exist, phone numbers); None lets the schema decide."""

    def __init__(self, rnd, hint=None):
        self.r = rnd
        self.hint = hint or (lambda name, schema: None)

    def string(self, s):
        fmt = s.get("format")
        if "enum" in s:
            return self.r.choice(s["enum"])
        if fmt == "date":
            return f"{self.r.randint(1930, 2025):04d}-{self.r.randint(1, 12):02d}-{self.r.randint(1, 28):02d}"
        if fmt == "date-time":
            return f"2026-{self.r.randint(1, 12):02d}-{self.r.randint(1, 28):02d}T{self.r.randint(0, 23):02d}:00:00Z"
        if fmt == "uri":
            return self.r.choice(["https://example.com/hook", "https://203.0.113.7/x", "http://127.0.0.1/"])
        if fmt == "password":
            return "Pw" + "".join(self.r.choice(ASCII) for _ in range(10)) + "9"
        pat = s.get("pattern", "")
        lo = s.get("minLength", 1 if pat else 0)
        hi = min(s.get("maxLength", 24), max(lo, 24))
        n = self.r.randint(max(lo, 1) if self.r.random() < 0.9 else lo, max(hi, lo))
        if pat.startswith("^[A-Za-z]") or pat.startswith("^[a-z]"):
            return "u" + "".join(self.r.choice("abcdefghijklmnopqrstuvwxyz0123456789_") for _ in range(max(2, min(n, 20)) - 1))
        if pat.startswith("^(age"):
            return self.r.choice(["", "age>=60", "age<18", "age>80"])
        alphabet = CJK if self.r.random() < 0.6 else ASCII
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def number(self, s, integer):
        lo = s.get("minimum", 0 if integer else -1000)
        if s.get("exclusiveMinimum"):
            lo = lo + 1 if integer else lo + 0.5
        hi = s.get("maximum", lo + 1000)
        if integer:
            return self.r.randint(int(lo), int(max(lo, hi)))
        return round(self.r.uniform(lo, max(lo, hi)), 4)

    def valid(self, s, name="", depth=0):
        """A value that s accepts (best effort: hints may name things the server refuses)."""
        s = deref(s)
        if "allOf" in s:
            merged = {}
            for part in s["allOf"]:
                part = deref(part)
                for k, v in part.items():
                    if k == "properties":
                        merged.setdefault("properties", {}).update(v)
                    elif k == "required":
                        merged.setdefault("required", []).extend(v)
                    else:
                        merged[k] = v
            for k, v in s.items():
                if k != "allOf":
                    merged[k] = v
            return self.valid(merged, name, depth)
        h = self.hint(name, s)
        if h is not None:
            return h
        t = s.get("type") or ("object" if "properties" in s else "string")
        if t == "object":
            out = {}
            props = s.get("properties", {})
            req = set(s.get("required", []))
            for k, sub in props.items():
                if k in req or (depth < 3 and self.r.random() < 0.5):
                    out[k] = self.valid(sub, k, depth + 1)
            return out
        if t == "array":
            lo = s.get("minItems", 0)
            hi = min(s.get("maxItems", 3), 3)
            return [self.valid(s.get("items", {}), name, depth + 1) for _ in range(self.r.randint(lo, max(lo, hi)))]
        if t == "integer":
            return self.number(s, True)
        if t == "number":
            return self.number(s, False)
        if t == "boolean":
            return self.r.random() < 0.5
        return self.string(s)

    def mutations(self, s, value):
        """[(description, mutated value)] of value (an instance of s) that s refuses, one per kind that
        applies: for an object, each of its properties gets a wrong type, a null (when not nullable),
        an oversized string, an out-of-range number; required ones go missing; an unknown property is
        added where additionalProperties is false."""
        s = deref(s)
        out = []
        props = {}
        required = list(s.get("required", []))
        addl = s.get("additionalProperties")
        for part in s.get("allOf", []):
            part = deref(part)
            props.update(part.get("properties", {}))
            required += part.get("required", [])
            if part.get("additionalProperties") is False:
                addl = False
        props.update(s.get("properties", {}))
        if not isinstance(value, dict) or not props:
            out.append(("body of the wrong type", self.r.choice([[], "x", 7, None])))
            return out
        for k, sub in props.items():
            sub = deref(sub)
            t = sub.get("type")
            wrong = {"string": 12345, "integer": "十二", "number": "十二", "boolean": "yes", "array": {"a": 1},
                     "object": [1, 2]}.get(t, [])
            out.append((f"{k}: wrong type", dict(value, **{k: wrong})))
            if not sub.get("nullable"):
                out.append((f"{k}: null", dict(value, **{k: None})))
            if t == "string" and "maxLength" in sub and "enum" not in sub:
                out.append((f"{k}: over maxLength {sub['maxLength']}", dict(value, **{k: "长" * (sub["maxLength"] + 1)})))
            if t == "string" and "enum" in sub:
                out.append((f"{k}: not in enum", dict(value, **{k: "不存在的值"})))
            if t in ("integer", "number") and "maximum" in sub:
                out.append((f"{k}: over maximum", dict(value, **{k: sub["maximum"] + 1})))
            if t in ("integer", "number") and "minimum" in sub:
                out.append((f"{k}: under minimum", dict(value, **{k: sub["minimum"] - 1})))
            if t == "string" and sub.get("format") == "date":
                out.append((f"{k}: not a date", dict(value, **{k: "2026-02-30x"})))
        for k in required:
            if k in value:
                out.append((f"{k}: required, missing", {x: y for x, y in value.items() if x != k}))
        if addl is False:
            out.append(("unknown property", dict(value, 不存在的字段=1)))
        out.append(("a string of 100 000 characters", dict(value, **{self.r.choice(list(props)): "x" * 100000})))
        return out
