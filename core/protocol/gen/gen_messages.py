#!/usr/bin/env python3
"""Generates conveyor's Kafka message structs from core/protocol/spec/*.spec.

Usage: gen_messages.py --out-include DIR --out-src DIR SPEC...

Writes DIR/conveyor/protocol/messages.h (every struct), one messages_<api>.cc per spec with the
encoders/decoders, and api_table.cc with the supported version table. The spec format is
documented in core/protocol/README.md. Python 3 standard library only.
"""
import argparse
import os
import re
import sys

INT_TYPES = {
    "int8": ("int8_t", 1, "int8"),
    "int16": ("int16_t", 2, "int16"),
    "int32": ("int32_t", 4, "int32"),
    "int64": ("int64_t", 8, "int64"),
    "uint16": ("uint16_t", 2, "uint16"),
    "uint32": ("uint32_t", 4, "uint32"),
}
PRIMITIVES = set(INT_TYPES) | {"bool", "float64", "string", "bytes", "records", "uuid"}
INF = 0x7FFF
CPP_RESERVED = {
    "alignas", "alignof", "and", "auto", "bool", "break", "case", "catch", "char", "class", "const",
    "constexpr", "continue", "default", "delete", "do", "double", "else", "enum", "explicit",
    "export", "extern", "false", "float", "for", "friend", "goto", "if", "inline", "int", "long",
    "mutable", "namespace", "new", "noexcept", "not", "nullptr", "operator", "or", "private",
    "protected", "public", "register", "return", "short", "signed", "sizeof", "static", "struct",
    "switch", "template", "this", "throw", "true", "try", "typedef", "typename", "union",
    "unsigned", "using", "virtual", "void", "volatile", "while", "xor",
    # members every generated struct has
    "encode", "decode", "decode_fields", "unknown_tagged_fields",
}


class SpecError(Exception):
    pass


def snake(name):
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    return s.lower()


def parse_range(text, where):
    m = re.fullmatch(r"(\d+)(\+|-(\d+))?", text)
    if not m:
        raise SpecError(f"{where}: bad version range '{text}'")
    lo = int(m.group(1))
    if m.group(2) == "+":
        return (lo, INF)
    if m.group(3) is not None:
        hi = int(m.group(3))
        if hi < lo:
            raise SpecError(f"{where}: empty version range '{text}'")
        return (lo, hi)
    return (lo, lo)


def intersect(a, b):
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo <= hi else None


class Field:
    def __init__(self, name, type_, versions, nullable, tag, default, where):
        self.name = name
        self.type = type_  # 'int32', '[]int32', '[]Struct', 'Struct'
        self.versions = versions
        self.nullable = nullable  # range or None
        self.tag = tag
        self.default = default
        self.where = where
        self.struct = None  # Struct for struct / struct array

    @property
    def is_array(self):
        return self.type.startswith("[]")

    @property
    def elem(self):
        return self.type[2:] if self.is_array else self.type

    @property
    def is_struct(self):
        return self.elem not in PRIMITIVES

    @property
    def optional(self):
        # records are always std::optional<Bytes>; other fields only when nullable somewhere.
        return self.type != "records" and self.nullable is not None


class Struct:
    def __init__(self, name, fields):
        self.name = name
        self.fields = fields
        self.children = []  # nested Struct definitions, in order


class Api:
    def __init__(self, path):
        self.path = path
        self.name = None
        self.key = None
        self.versions = None
        self.flexible = INF
        self.request = None
        self.response = None


def parse_spec(path):
    api = Api(path)
    lines = []
    with open(path, encoding="utf-8") as f:
        for no, raw in enumerate(f, 1):
            text = raw.split("#", 1)[0].rstrip()
            if not text.strip():
                continue
            indent = len(text) - len(text.lstrip(" "))
            if "\t" in raw[:indent + 1]:
                raise SpecError(f"{path}:{no}: tabs are not allowed")
            lines.append((no, indent, text.strip()))

    i = 0
    sections = {}
    while i < len(lines):
        no, indent, text = lines[i]
        where = f"{path}:{no}"
        if indent != 0:
            raise SpecError(f"{where}: unexpected indentation")
        words = text.split()
        kw = words[0]
        if kw == "api":
            api.name = words[1]
        elif kw == "key":
            api.key = int(words[1])
        elif kw == "versions":
            api.versions = parse_range(words[1], where)
        elif kw == "flexible":
            api.flexible = INF if words[1] == "none" else parse_range(words[1], where)[0]
        elif kw in ("request", "response"):
            body = []
            i += 1
            while i < len(lines) and lines[i][1] > 0:
                body.append(lines[i])
                i += 1
            sections[kw] = body
            continue
        else:
            raise SpecError(f"{where}: unknown keyword '{kw}'")
        i += 1
    for need in ("name", "key", "versions"):
        if getattr(api, need) is None:
            raise SpecError(f"{path}: missing '{need if need != 'name' else 'api'}'")
    for kind in ("request", "response"):
        if kind not in sections:
            raise SpecError(f"{path}: missing '{kind}' section")
        fields, _ = parse_fields(sections[kind], 0, 2, api, path)
        s = Struct(api.name + kind.capitalize(), fields)
        collect_children(s)
        setattr(api, kind, s)
    return api


def parse_fields(lines, i, indent, api, path):
    fields = []
    while i < len(lines):
        no, ind, text = lines[i]
        where = f"{path}:{no}"
        if ind < indent:
            break
        if ind > indent:
            raise SpecError(f"{where}: unexpected indentation")
        words = text.split()
        if len(words) < 2:
            raise SpecError(f"{where}: a field needs a name and a type")
        name, type_ = words[0], words[1]
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise SpecError(f"{where}: field names are snake_case: '{name}'")
        if name in CPP_RESERVED:
            raise SpecError(f"{where}: '{name}' is reserved in the generated C++")
        versions = api.versions
        nullable = None
        tag = None
        default = None
        for w in words[2:]:
            if w.startswith("v"):
                versions = intersect(parse_range(w[1:], where), api.versions)
                if versions is None:
                    raise SpecError(f"{where}: versions outside the API's range")
            elif w == "nullable":
                nullable = versions
            elif w.startswith("nullable="):
                nullable = parse_range(w[len("nullable="):], where)
            elif w.startswith("tag="):
                tag = int(w[4:])
            elif w.startswith("default="):
                default = w[len("default="):]
            else:
                raise SpecError(f"{where}: unknown attribute '{w}'")
        if nullable is not None:
            nullable = intersect(nullable, versions)
        f = Field(name, type_, versions, nullable, tag, default, where)
        elem = f.elem
        if f.type == "records" and nullable is None:
            f.nullable = versions
        if tag is not None and versions[0] < api.flexible:
            raise SpecError(f"{where}: tagged fields exist only in flexible versions")
        i += 1
        if elem not in PRIMITIVES:
            if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", elem):
                raise SpecError(f"{where}: unknown type '{type_}'")
            if i >= len(lines) or lines[i][1] <= indent:
                raise SpecError(f"{where}: struct '{elem}' has no fields")
            children, i = parse_fields(lines, i, lines[i][1], api, path)
            f.struct = Struct(elem, children)
        elif i < len(lines) and lines[i][1] > indent:
            raise SpecError(f"{path}:{lines[i][0]}: only struct fields have nested fields")
        fields.append(f)
    return fields, i


def collect_children(top):
    """Flattens every nested struct of a message into `top.children` (innermost first), as
    Kafka's schemas do: all nested types are members of the request/response struct
    (ProduceResponse::PartitionProduceResponse, FetchResponse::PartitionData)."""
    seen = {}

    def walk(s):
        for f in s.fields:
            if f.struct is None:
                continue
            if f.struct.name in seen or f.struct.name == top.name:
                first = seen.get(f.struct.name, "the message")
                raise SpecError(f"{f.where}: struct name '{f.struct.name}' already used at {first}")
            seen[f.struct.name] = f.where
            walk(f.struct)
            top.children.append(f.struct)

    walk(top)


# ---------------------------------------------------------------------------------------------
# C++ generation


def elem_cpp(f):
    e = f.elem
    if e in INT_TYPES:
        return INT_TYPES[e][0]
    return {"bool": "bool", "float64": "double", "string": "std::string", "bytes": "Bytes",
            "records": "Bytes", "uuid": "Uuid"}.get(e, e)


def member_cpp(f):
    t = elem_cpp(f)
    if f.is_array:
        t = f"std::vector<{t}>"
    if f.type == "records" or f.optional:
        t = f"std::optional<{t}>"
    return t


def cpp_string_literal(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def default_init(f):
    """Initializer text (without braces) for the member, or '' for value-initialization."""
    d = f.default
    if f.type == "records":
        return ""
    if f.optional and (d is None or d == "null"):
        return ""
    if d is None:
        if f.is_array or f.is_struct or f.elem in ("string", "bytes", "uuid"):
            return ""
        return "false" if f.elem == "bool" else "0"
    if d == "null":
        raise SpecError(f"{f.where}: default=null on a field that is never nullable")
    if f.is_array:
        if d != "empty":
            raise SpecError(f"{f.where}: arrays only take default=empty")
        return "std::vector<%s>{}" % elem_cpp(f) if f.optional else ""
    e = f.elem
    if e == "bool":
        if d not in ("true", "false"):
            raise SpecError(f"{f.where}: bad bool default '{d}'")
        return d
    if e in INT_TYPES:
        v = int(d, 0)
        if e == "int64" and v == -(2 ** 63):
            return "INT64_MIN"
        if e == "int32" and v == -(2 ** 31):
            return "INT32_MIN"
        return str(v) + ("LL" if e == "int64" else "")
    if e == "float64":
        return str(float(d))
    if e == "string":
        return cpp_string_literal("" if d == "empty" else d)
    raise SpecError(f"{f.where}: no default supported for type '{f.type}'")


def ver_cond(r, api):
    """C++ condition for `version` in range r (clipped to the API's range)."""
    lo, hi = r
    conds = []
    if lo > api.versions[0]:
        conds.append(f"version >= {lo}")
    if hi < api.versions[1]:
        conds.append(f"version <= {hi}")
    return " && ".join(conds) if conds else "true"


def elem_min_size(f, flexible):
    e = f.elem
    if e in INT_TYPES:
        return INT_TYPES[e][1]
    return {"bool": 1, "float64": 8, "uuid": 16, "string": 1 if flexible else 2,
            "bytes": 1 if flexible else 4, "records": 1 if flexible else 4}.get(e)


def struct_min_size(s, api):
    best = None
    for v in range(api.versions[0], api.versions[1] + 1):
        flexible = v >= api.flexible
        size = 1 if flexible else 0
        for f in s.fields:
            if f.tag is not None or not (f.versions[0] <= v <= f.versions[1]):
                continue
            if f.is_array:
                size += 1 if flexible else 4
            elif f.is_struct:
                size += struct_min_size(f.struct, api)
            else:
                size += elem_min_size(f, flexible)
        best = size if best is None else min(best, size)
    return max(best or 1, 1)


def array_elem_min(f, api):
    if f.is_struct:
        return struct_min_size(f.struct, api)
    flex_any = api.flexible <= api.versions[1]
    classic_any = api.flexible > api.versions[0]
    sizes = []
    if flex_any:
        sizes.append(elem_min_size(f, True))
    if classic_any:
        sizes.append(elem_min_size(f, False))
    return max(min(sizes), 1)


class Out:
    def __init__(self):
        self.lines = []

    def __call__(self, indent, text):
        self.lines.append("  " * indent + text if text else "")

    def text(self):
        return "\n".join(self.lines) + "\n"


def gen_struct_decl(out, s, api, indent, top_kind=None, top_name=None):
    out(indent, f"struct {s.name} {{")
    for c in s.children:
        gen_struct_decl(out, c, api, indent + 1, None, s.name)
        out(0, "")
    if not top_kind:
        # The schema's nesting is also reachable by path (FetchResponse::FetchableTopicResponse::
        # PartitionData is FetchResponse::PartitionData).
        for f in s.fields:
            if f.struct is not None:
                out(indent + 1, f"using {f.struct.name} = {top_name}::{f.struct.name};")
    if top_kind:
        out(indent + 1, f"static constexpr ApiKey kApiKey = ApiKey::{snake(api.name)};")
        out(indent + 1, f"static constexpr int16_t kMinVersion = {api.versions[0]};")
        out(indent + 1, f"static constexpr int16_t kMaxVersion = {api.versions[1]};")
        fv = api.flexible if api.flexible != INF else -1
        out(indent + 1, f"// First flexible version (compact encodings + tagged fields); -1 = none.")
        out(indent + 1, f"static constexpr int16_t kFirstFlexibleVersion = {fv};")
        out(0, "")
    for f in s.fields:
        notes = []
        if f.versions != api.versions:
            lo, hi = f.versions
            notes.append(f"v{lo}+" if hi == api.versions[1] else f"v{lo}-{hi}")
        if f.nullable is not None and f.type != "records":
            lo, hi = f.nullable
            notes.append("nullable " + (f"v{lo}+" if hi == api.versions[1] else f"v{lo}-{hi}"))
        if f.tag is not None:
            notes.append(f"tagged field {f.tag}")
        init = default_init(f)
        decl = f"{member_cpp(f)} {f.name}" + (f"{{{init}}};" if init else "{};")
        out(indent + 1, decl + (f"  // {', '.join(notes)}" if notes else ""))
    out(indent + 1, "TaggedFields unknown_tagged_fields;")
    out(0, "")
    out(indent + 1, "// Writes this struct as `version` of the schema (fields absent in it are skipped).")
    out(indent + 1, "void encode(Writer& w, int16_t version) const;")
    if top_kind:
        err = "invalid_request" if top_kind == "request" else "corrupt_message"
        out(indent + 1, f"// Reads `version`; unsupported_version outside [kMinVersion, kMaxVersion], {err}")
        out(indent + 1, "// when the input is truncated or a length lies.")
    else:
        out(indent + 1, "// Reads `version`; corrupt_message when the input is truncated or a length lies.")
    out(indent + 1, "Result<void> decode(Reader& r, int16_t version);")
    out(indent + 1, "// Decoder body: on bad input marks `r` failed (r.ok() == false) and returns.")
    out(indent + 1, "void decode_fields(Reader& r, int16_t version);")
    out(indent + 1, f"bool operator==(const {s.name}&) const = default;")
    out(indent, "};")


# ---- encode -----------------------------------------------------------------------------------

def enc_scalar(out, ind, f, w, expr, nullable_cond):
    """Write one non-array value `expr` (member type minus the array part)."""
    e = f.elem
    if e in INT_TYPES:
        out(ind, f"{w}.{INT_TYPES[e][2]}({expr});")
    elif e == "bool":
        out(ind, f"{w}.boolean({expr});")
    elif e == "float64":
        out(ind, f"{w}.float64({expr});")
    elif e == "uuid":
        out(ind, f"{w}.uuid({expr});")
    elif e == "records":
        out(ind, f"if (flexible) {w}.compact_nullable_bytes({expr}); else {w}.nullable_bytes({expr});")
    elif e in ("string", "bytes"):
        if f.optional and not f.is_array:
            out(ind, f"if ({nullable_cond}) {{")
            out(ind + 1, f"if (flexible) {w}.compact_nullable_{e}({expr}); else {w}.nullable_{e}({expr});")
            out(ind, "} else {")
            empty = 'std::string_view()' if e == "string" else "ByteView()"
            val = f"({expr} ? {'std::string_view' if e == 'string' else 'ByteView'}(*{expr}) : {empty})"
            out(ind + 1, f"if (flexible) {w}.compact_{e}({val}); else {w}.{e}({val});")
            out(ind, "}")
        else:
            out(ind, f"if (flexible) {w}.compact_{e}({expr}); else {w}.{e}({expr});")
    else:  # struct
        out(ind, f"{expr}.encode({w}, version);")


def enc_field(out, ind, f, w, expr, api):
    nullable_cond = ver_cond(f.nullable, api) if f.nullable else "false"
    if f.is_array:
        if f.optional:
            out(ind, f"if (!{expr}) {{")
            out(ind + 1, f"if ({nullable_cond}) {{ if (flexible) {w}.compact_array_length(-1); else {w}.array_length(-1); }}")
            out(ind + 1, f"else if (flexible) {w}.compact_array_length(0); else {w}.array_length(0);")
            out(ind, "} else {")
            vec = f"(*{expr})"
        else:
            out(ind, "{")
            vec = expr
        out(ind + 1, f"const auto n = static_cast<int32_t>({vec}.size());")
        out(ind + 1, f"if (flexible) {w}.compact_array_length(n); else {w}.array_length(n);")
        out(ind + 1, f"for (const auto& e : {vec}) {{")
        enc_scalar(out, ind + 2, f, w, "e", nullable_cond)
        out(ind + 1, "}")
        out(ind, "}")
    else:
        enc_scalar(out, ind, f, w, expr, nullable_cond)


def is_default_expr(f):
    init = default_init(f)
    if f.is_array:
        if f.optional:
            return f"!{f.name}" if not init else f"({f.name} && {f.name}->empty())"
        return f"{f.name}.empty()"
    if f.is_struct:
        return f"{f.name} == {f.elem}{{}}"
    if f.type == "records" or (f.optional and not init):
        return f"!{f.name}"
    if f.elem in ("bytes",):
        return f"{f.name}.empty()"
    if f.elem == "uuid":
        return f"{f.name} == Uuid{{}}"
    if f.elem == "string":
        if f.optional:
            return f"({f.name} && *{f.name} == {init})"
        return f"{f.name} == {init}" if init else f"{f.name}.empty()"
    return f"{f.name} == {init or ('false' if f.elem == 'bool' else '0')}"


def gen_encode(out, s, api, prefix, top):
    q = f"{prefix}{s.name}"
    out(0, f"void {q}::encode(Writer& w, int16_t version) const {{")
    if top:
        out(1, "CONVEYOR_ASSERT_MSG(version >= kMinVersion && version <= kMaxVersion,")
        out(1, f'                   "{s.name}: version outside the supported range");')
    out(1, f"[[maybe_unused]] const bool flexible = version >= {api.flexible if api.flexible != INF else 'INT16_MAX'};")
    for f in s.fields:
        if f.tag is not None:
            continue
        cond = ver_cond(f.versions, api)
        if cond == "true":
            enc_field(out, 1, f, "w", f.name, api)
        else:
            out(1, f"if ({cond}) {{")
            enc_field(out, 2, f, "w", f.name, api)
            out(1, "}")
    if api.flexible != INF:
        tagged = sorted([f for f in s.fields if f.tag is not None], key=lambda f: f.tag)
        out(1, "if (flexible) {")
        if tagged:
            out(2, "std::vector<std::pair<uint32_t, Bytes>> tagged;")
            for f in tagged:
                cond = ver_cond(f.versions, api)
                out(2, f"if (({cond}) && !({is_default_expr(f)})) {{")
                out(3, "Bytes body;")
                out(3, "Writer tw(body);")
                enc_field(out, 3, f, "tw", f.name, api)
                out(3, f"tagged.emplace_back({f.tag}u, std::move(body));")
                out(2, "}")
            out(2, "w.tagged_fields(tagged, unknown_tagged_fields);")
        else:
            out(2, "w.tagged_fields({}, unknown_tagged_fields);")
        out(1, "}")
    out(0, "}")
    out(0, "")
    for c in s.children:
        gen_encode(out, c, api, q + "::", False)


# ---- decode -----------------------------------------------------------------------------------

def dec_scalar(out, ind, f, r, target, nullable_cond):
    e = f.elem
    if e in INT_TYPES:
        out(ind, f"{target} = {r}.{INT_TYPES[e][2]}();")
    elif e == "bool":
        out(ind, f"{target} = {r}.boolean();")
    elif e == "float64":
        out(ind, f"{target} = {r}.float64();")
    elif e == "uuid":
        out(ind, f"{target} = {r}.uuid();")
    elif e == "records":
        out(ind, f"{target} = flexible ? {r}.compact_nullable_bytes() : {r}.nullable_bytes();")
    elif e in ("string", "bytes"):
        if f.optional and not f.is_array:
            out(ind, f"if ({nullable_cond}) {target} = flexible ? {r}.compact_nullable_{e}() : {r}.nullable_{e}();")
            out(ind, f"else {target} = flexible ? {r}.compact_{e}() : {r}.{e}();")
        else:
            out(ind, f"{target} = flexible ? {r}.compact_{e}() : {r}.{e}();")
    else:
        out(ind, f"{target}.decode_fields({r}, version);")


def dec_field(out, ind, f, r, api):
    nullable_cond = ver_cond(f.nullable, api) if f.nullable else "false"
    if f.is_array:
        m = array_elem_min(f, api)
        out(ind, "{")
        out(ind + 1, f"const int32_t n = flexible ? {r}.compact_array_length({m}) : {r}.array_length({m});")
        if f.optional:
            out(ind + 1, "if (n < 0) {")
            out(ind + 2, f"if ({nullable_cond}) {f.name}.reset(); else {r}.fail();")
            out(ind + 1, "} else {")
            out(ind + 2, f"auto& vec = {f.name}.emplace();")
        else:
            out(ind + 1, "if (n < 0) {")
            out(ind + 2, f"{r}.fail();")
            out(ind + 1, "} else {")
            out(ind + 2, f"auto& vec = {f.name};")
        out(ind + 2, "vec.clear();")
        out(ind + 2, "vec.resize(static_cast<size_t>(n));")
        out(ind + 2, f"for (size_t i = 0; i < vec.size() && {r}.ok(); ++i) {{")
        if f.elem == "bool":
            out(ind + 3, f"vec[i] = {r}.boolean();")
        else:
            dec_scalar(out, ind + 3, f, r, "vec[i]", "false")
        out(ind + 2, "}")
        out(ind + 1, "}")
        out(ind, "}")
    else:
        dec_scalar(out, ind, f, r, f.name, nullable_cond)


def gen_decode(out, s, api, prefix, top, kind):
    q = f"{prefix}{s.name}"
    out(0, f"void {q}::decode_fields(Reader& r, int16_t version) {{")
    out(1, f"[[maybe_unused]] const bool flexible = version >= {api.flexible if api.flexible != INF else 'INT16_MAX'};")
    for f in s.fields:
        if f.tag is not None:
            continue
        cond = ver_cond(f.versions, api)
        if cond == "true":
            dec_field(out, 1, f, "r", api)
        else:
            out(1, f"if ({cond}) {{")
            dec_field(out, 2, f, "r", api)
            out(1, "}")
    if api.flexible != INF:
        tagged = sorted([f for f in s.fields if f.tag is not None], key=lambda f: f.tag)
        out(1, "if (flexible) {")
        if tagged:
            out(2, "r.tagged_fields(unknown_tagged_fields, [&](uint32_t tag, Reader& tr) -> bool {")
            out(3, "switch (tag) {")
            for f in tagged:
                out(4, f"case {f.tag}:")
                out(5, f"if (!({ver_cond(f.versions, api)})) return false;")
                dec_field(out, 5, f, "tr", api)
                out(5, "return true;")
            out(4, "default:")
            out(5, "return false;")
            out(3, "}")
            out(2, "});")
        else:
            out(2, "r.skip_tagged_fields(unknown_tagged_fields);")
        out(1, "}")
    out(0, "}")
    out(0, "")
    err = "corrupt_message"
    if top and kind == "request":
        err = "invalid_request"
    out(0, f"Result<void> {q}::decode(Reader& r, int16_t version) {{")
    if top:
        out(1, "if (version < kMinVersion || version > kMaxVersion) {")
        out(2, f'return fail(ErrorCode::unsupported_version, fmt::format("{s.name} v{{}} is outside {api.versions[0]}-{api.versions[1]}", version));')
        out(1, "}")
    out(1, "decode_fields(r, version);")
    out(1, "if (!r.ok()) {")
    out(2, f'return fail(ErrorCode::{err}, fmt::format("{s.name} v{{}}: truncated or malformed at byte {{}}", version, r.position()));')
    out(1, "}")
    out(1, "return {};")
    out(0, "}")
    out(0, "")
    for c in s.children:
        gen_decode(out, c, api, q + "::", False, kind)


# ---- samples (tests) --------------------------------------------------------------------------

def sample_value(out, ind, f, target):
    e = f.elem
    if e in INT_TYPES:
        out(ind, f"{target} = static_cast<{INT_TYPES[e][0]}>(7 + seed++ % 100);")
    elif e == "bool":
        init = default_init(f)
        out(ind, f"{target} = {'false' if init == 'true' else 'true'};")
    elif e == "float64":
        out(ind, f"{target} = 0.5 + seed++;")
    elif e == "uuid":
        out(ind, "{ Uuid u{}; for (auto& b : u) b = static_cast<uint8_t>(seed++); " + target + " = u; }")
    elif e == "string":
        out(ind, f'{target} = "s" + std::to_string(seed++);')
    elif e in ("bytes", "records"):
        out(ind, f"{target} = Bytes{{static_cast<uint8_t>(seed), static_cast<uint8_t>(seed + 1), 0xff}}; seed += 2;")
    else:
        out(ind, f"fill_sample({target}, version, seed);")


def gen_sample(out, s, api, prefix):
    q = f"{prefix}{s.name}"
    for c in s.children:
        gen_sample(out, c, api, q + "::")
    out(0, f"inline void fill_sample({q}& m, int16_t version, uint32_t& seed) {{")
    out(1, "(void)version;")
    for f in s.fields:
        out(1, f"if ({ver_cond(f.versions, api)}) {{")
        if f.is_array:
            out(2, "{")
            out(3, f"auto& vec = " + (f"m.{f.name}.emplace();" if f.optional else f"m.{f.name};"))
            out(3, "vec.resize(2);")
            out(3, "for (size_t i = 0; i < vec.size(); ++i) {")
            if f.elem == "bool":
                out(4, "vec[i] = (i % 2) == 0;")
            else:
                sample_value(out, 4, f, "vec[i]")
            out(3, "}")
            out(2, "}")
        else:
            sample_value(out, 2, f, f"m.{f.name}")
        out(1, "}")
    out(0, "}")
    out(0, "")


SAMPLES_PREAMBLE = """#pragma once
// GENERATED by core/protocol/gen/gen_messages.py. Do not edit. For tests only.
//
// fill_sample(message, version, seed) sets every field present in `version` (tagged ones too)
// to a non-default value derived from `seed`, with two elements in every array and every
// nullable field non-null, so a round trip exercises each field's encoding.
// CONVEYOR_PROTOCOL_FOR_EACH_MESSAGE(X) expands X(Type) for every generated request/response.
#include <cstdint>
#include <string>

#include "conveyor/protocol/messages.h"

namespace conveyor::protocol::testing {
"""


# ---- files ------------------------------------------------------------------------------------

HEADER_PREAMBLE = """#pragma once
// GENERATED by core/protocol/gen/gen_messages.py from core/protocol/spec/*.spec. Do not edit.
//
// One struct per Kafka request and response (protocol guide, "The Messages"), in
// conveyor::protocol. Fields carry Kafka's field names in snake_case and Kafka's defaults;
// nested structs carry the names Kafka's schemas give them. A field present only in some
// versions is skipped when encoding other versions and left untouched when decoding them.
// Fields nullable in some version are std::optional; in a version where the field is not
// nullable a null value is written as empty. `records` fields are std::optional<Bytes>
// holding the raw RecordBatch bytes. Known tagged fields are members; unknown tags are kept in
// `unknown_tagged_fields` and written back on encode.
//
// encode() asserts that the version is in [kMinVersion, kMaxVersion]; decode() returns
// unsupported_version for other versions and invalid_request (requests) or corrupt_message
// (responses, nested structs) for truncated or lying input. Decoding never allocates more
// elements than the remaining bytes could hold.
// Thread-safety: plain values; no shared state.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "conveyor/base/result.h"
#include "conveyor/protocol/api.h"
#include "conveyor/protocol/bytes.h"
#include "conveyor/protocol/codec.h"

namespace conveyor::protocol {
"""


def generate(apis, out_include, out_src):
    hdr = Out()
    hdr.lines.append(HEADER_PREAMBLE)
    for api in apis:
        hdr(0, f"// ---- {api.name} (API key {api.key}), versions {api.versions[0]}-{api.versions[1]}, "
               f"flexible {'from v%d' % api.flexible if api.flexible != INF else 'never'} ----")
        hdr(0, "")
        gen_struct_decl(hdr, api.request, api, 0, "request")
        hdr(0, "")
        gen_struct_decl(hdr, api.response, api, 0, "response")
        hdr(0, "")
    hdr(0, "}  // namespace conveyor::protocol")

    files = {os.path.join(out_include, "conveyor", "protocol", "messages.h"): hdr.text()}
    for api in apis:
        src = Out()
        src(0, f"// GENERATED by core/protocol/gen/gen_messages.py from {os.path.basename(api.path)}. Do not edit.")
        src(0, "#include <climits>")
        src(0, "#include <cstdint>")
        src(0, "#include <fmt/format.h>")
        src(0, "")
        src(0, '#include "conveyor/base/assert.h"')
        src(0, '#include "conveyor/protocol/messages.h"')
        src(0, "")
        src(0, "namespace conveyor::protocol {")
        src(0, "")
        for kind in ("request", "response"):
            s = getattr(api, kind)
            gen_encode(src, s, api, "", True)
            gen_decode(src, s, api, "", True, kind)
        src(0, "}  // namespace conveyor::protocol")
        files[os.path.join(out_src, f"messages_{snake(api.name)}.cc")] = src.text()

    smp = Out()
    smp.lines.append(SAMPLES_PREAMBLE)
    smp(0, "#define CONVEYOR_PROTOCOL_FOR_EACH_MESSAGE(X) \\")
    for api in apis:
        smp(1, f"X({api.name}Request) X({api.name}Response) \\")
    smp(1, "")
    smp(0, "")
    for api in apis:
        for kind in ("request", "response"):
            gen_sample(smp, getattr(api, kind), api, "")
    smp(0, "}  // namespace conveyor::protocol::testing")
    files[os.path.join(out_include, "conveyor", "protocol", "testing", "message_samples.h")] = smp.text()

    tab = Out()
    tab(0, "// GENERATED by core/protocol/gen/gen_messages.py from core/protocol/spec/*.spec. Do not edit.")
    tab(0, '#include "conveyor/protocol/api.h"')
    tab(0, "")
    tab(0, "namespace conveyor::protocol {")
    tab(0, "namespace {")
    tab(0, "constexpr ApiVersionRange kTable[] = {")
    for api in sorted(apis, key=lambda a: a.key):
        fv = api.flexible if api.flexible != INF else -1
        tab(1, f"{{ApiKey::{snake(api.name)}, {api.versions[0]}, {api.versions[1]}, {fv}}},")
    tab(0, "};")
    tab(0, "}  // namespace")
    tab(0, "")
    tab(0, "std::span<const ApiVersionRange> message_api_versions() { return kTable; }")
    tab(0, "")
    tab(0, "}  // namespace conveyor::protocol")
    files[os.path.join(out_src, "api_table.cc")] = tab.text()

    for path, text in files.items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        old = None
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                old = f.read()
        if old != text:  # keep timestamps stable so unchanged outputs do not rebuild
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out-include", required=True)
    ap.add_argument("--out-src", required=True)
    ap.add_argument("specs", nargs="+")
    args = ap.parse_args()
    try:
        apis = [parse_spec(p) for p in sorted(args.specs)]
        keys = {}
        for a in apis:
            if a.key in keys:
                raise SpecError(f"{a.path}: key {a.key} also used by {keys[a.key]}")
            keys[a.key] = a.path
        generate(apis, args.out_include, args.out_src)
    except SpecError as e:
        print(f"gen_messages.py: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
