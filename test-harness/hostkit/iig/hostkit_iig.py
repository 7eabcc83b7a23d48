#!/usr/bin/python3
"""hostkit_iig: turn a DriverKit .iig class declaration into hostkit headers.

Apple's iig reads a .iig file and writes Foo.h (included by the driver) and
Foo.iig.cpp (dispatch, metaclass). On Linux there is no iig, so this tool does
what the driver sources need from it, against hostkit's classes, and enforces
the rules of the .iig language that Apple's iig and the SDK headers enforce:

  * #include <Family/Base.iig>  ->  #include <Family/Base.h>; the base classes'
    declarations are read from sdk/ (hostkit's transcription of the SDK .iig
    files: which methods exist, which are LOCALONLY, which are final);
  * no data members: iig adds one `ivars` pointer to struct <Class>_IVars;
  * an `override` must override a method of a base class, with the same
    parameter types and return type, and never a `final` one;
  * an override inherits the base method's kind: LOCALONLY methods (init, free,
    IOUserUSBSerial's packet hooks) stay plain C++ calls, messages stay
    messages; writing LOCALONLY on an override of a message is an error;
  * a message (any method not LOCALONLY) cannot take reference parameters: RPC
    marshalling has no references;
  * TYPE(Class::Method) declares a completion method of that callback type: the
    named class must come from an included .iig and declare the method, the
    declaration must have exactly its parameter and return types (the first
    an OSAction *), and it is a message; iig adds
    kern_return_t CreateAction<Name>(size_t referenceSize, OSAction **action),
    whose action delivers the completion to <Name> on the driver's queue;
  * for every message: the public front door Name(args..., OSDispatchMethod
    supermethod = nullptr) -- called plainly it dispatches virtually to
    Name_Impl, called with SUPERDISPATCH it runs the superclass's
    implementation -- and the protected Name_Impl declaration, plus the
    <Class>_<Name>_Args macro for IMPL(Class, Name);
  * the class's metaclass (OSDynamicCast works without RTTI), and Foo.iig.cpp
    registers the class with hostkit's runtime by name.

Usage: hostkit_iig.py --def Foo.iig --header out/Foo.h --impl out/Foo.iig.cpp [--sdk DIR]
Anything the tool does not understand is an error with the file and line.
"""
import argparse
import os
import re
import sys

SDK_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sdk")

METHOD = re.compile(
    r"^(?P<virtual>virtual\s+)?(?P<ret>[A-Za-z_][\w\s\*&:<>]*?[\s\*&])"
    r"(?P<name>[A-Za-z_]\w*)\s*\((?P<params>[^()]*)\)\s*(?P<quals>[^;{]*);$"
)
DATA_MEMBER = re.compile(r"^(static\s+)?(const\s+)?[A-Za-z_][\w:<>\s\*&]*[\s\*&][A-Za-z_]\w*"
                         r"(\s*\[[^\]]*\])?\s*(=[^;]*)?;$")
CLASS = re.compile(r"^class\s+(?P<name>\w+)\s*:\s*public\s+(?P<base>\w+)\s*$")
ANNOTATIONS = {"LOCALONLY", "LOCAL", "KERNEL", "override", "final", "const"}
TYPE_ANNOTATION = re.compile(r"TYPE\(\s*(?P<cls>[A-Za-z_]\w*)\s*::\s*(?P<method>[A-Za-z_]\w*)\s*\)")


class IigError(Exception):
    pass


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def split_params(params):
    params = params.strip()
    if params in ("", "void"):
        return []
    return [p.strip() for p in params.split(",")]


def param_name(param, where):
    match = re.search(r"([A-Za-z_]\w*)\s*(\[[^\]]*\])?\s*$", param)
    if not match:
        raise IigError(f"{where}: cannot find the parameter name in '{param}'")
    return match.group(1)


def param_type(param, where):
    name = param_name(param, where)
    type_text = param[: param.rindex(name)]
    return re.sub(r"\s+", "", type_text)


def normalise_type(text):
    return re.sub(r"\s+", "", text)


class Method:
    def __init__(self, decl, where):
        match = METHOD.match(decl)
        if not match:
            raise IigError(f"{where}: not a method declaration: {decl}")
        self.where = where
        self.name = match.group("name")
        self.ret = match.group("ret").strip()
        self.params = match.group("params").strip()
        quals = match.group("quals").strip()
        if "QUEUENAME(" in quals:
            raise IigError(f"{where}: QUEUENAME() methods are not supported by hostkit yet")
        self.type = None
        typed = TYPE_ANNOTATION.search(quals)
        if typed:
            self.type = (typed.group("cls"), typed.group("method"))
            quals = (quals[:typed.start()] + quals[typed.end():]).strip()
        elif "TYPE(" in quals:
            raise IigError(f"{where}: TYPE() takes Class::Method")
        quals = re.sub(r"=\s*0\s*$", "", quals).strip()
        words = quals.split()
        unknown = [w for w in words if w not in ANNOTATIONS]
        if unknown:
            raise IigError(f"{where}: unknown annotation {' '.join(unknown)} on {self.name}")
        self.override = "override" in words
        self.final = "final" in words
        self.localonly = "LOCALONLY" in words
        self.param_list = split_params(self.params)
        self.names = [param_name(p, where) for p in self.param_list]
        self.types = [param_type(p, where) for p in self.param_list]

    def signature(self):
        return f"{normalise_type(self.ret)} {self.name}({', '.join(self.types)})"


class ClassDecl:
    def __init__(self, name, base, methods, includes, source):
        self.name = name
        self.base = base
        self.methods = methods
        self.includes = includes
        self.source = source


def parse(text, source):
    lines = strip_comments(text).split("\n")
    prologue, includes, members = [], [], []
    cls = base = None
    depth = 0
    pending, pending_line = "", 0
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if cls is None:
            match = CLASS.match(line)
            if match:
                cls, base = match.group("name"), match.group("base")
                continue
            if line.startswith("#include"):
                target = re.search(r'[<"]([^>"]+)[>"]', line)
                if target and target.group(1).endswith(".iig"):
                    includes.append(target.group(1))
                line = re.sub(r"\.iig>", ".h>", re.sub(r'\.iig"', '.h"', line))
            prologue.append(line)
            continue
        if line == "{" and depth == 0:
            depth = 1
            continue
        if line.startswith("};") and depth == 1:
            depth = 0
            continue
        if not line or line in ("public:", "protected:", "private:"):
            continue
        if pending:
            pending += " " + line
        else:
            pending, pending_line = line, number
        if pending.endswith(";"):
            members.append((pending_line, re.sub(r"\s+", " ", pending)))
            pending = ""
    if cls is None:
        raise IigError(f"{source}: no `class Name : public Base` declaration found")
    if pending:
        raise IigError(f"{source}:{pending_line}: declaration does not end with ';'")
    methods = []
    for line, decl in members:
        where = f"{source}:{line}"
        if "(" not in decl and DATA_MEMBER.match(decl):
            raise IigError(
                f"{where}: data member in a .iig class ({decl}); iig adds one `ivars` pointer: "
                f"put state in struct {cls}_IVars")
        methods.append(Method(decl, where))
    return ClassDecl(cls, base, methods, includes, source), prologue


class Sdk:
    """The base classes' declarations, read from hostkit's sdk/ transcription."""

    def __init__(self, directory):
        self.directory = directory
        self.classes = {}

    def load_include(self, include, seen=None):
        seen = seen if seen is not None else set()
        path = os.path.join(self.directory, os.path.basename(include))
        if path in seen:
            return
        seen.add(path)
        if not os.path.exists(path):
            raise IigError(f"{include}: hostkit has no SDK declaration for it (looked in {path})")
        with open(path, encoding="utf-8") as f:
            decl, _ = parse(f.read(), path)
        for nested in decl.includes:
            self.load_include(nested, seen)
        self.classes[decl.name] = decl

    def chain(self, name):
        """The class named `name` and its bases, nearest first."""
        out = []
        while name in self.classes:
            out.append(self.classes[name])
            name = self.classes[name].base
        return out

    def find(self, base, method_name):
        """The declaration nearest to `base` of method_name, and whether any is final."""
        found, final = None, False
        for decl in self.chain(base):
            for m in decl.methods:
                if m.name == method_name:
                    final = final or m.final
                    if found is None:
                        found = m
        return found, final

    def kind(self, base, method_name):
        """LOCALONLY if the method's first declaration up the chain says so."""
        kinds = [m.localonly for decl in self.chain(base) for m in decl.methods
                 if m.name == method_name and not m.override]
        return kinds[-1] if kinds else False


def check_type(m, sdk):
    cls, method = m.type
    if cls not in sdk.classes:
        raise IigError(f"{m.where}: TYPE({cls}::{method}): {cls} is not declared by any included "
                       f".iig")
    target = next((t for t in sdk.classes[cls].methods if t.name == method), None)
    if target is None:
        raise IigError(f"{m.where}: TYPE({cls}::{method}): {cls} declares no {method}")
    if not m.types or m.types[0] != "OSAction*":
        raise IigError(f"{m.where}: {m.name} has TYPE({cls}::{method}) but its first parameter is "
                       f"not OSAction *")
    if m.types != target.types or normalise_type(m.ret) != normalise_type(target.ret):
        raise IigError(f"{m.where}: {m.signature()} does not match {cls}::{target.signature()}, "
                       f"the TYPE it names")
    if m.override or m.localonly:
        raise IigError(f"{m.where}: a TYPE() method is a new message of the class: no override, "
                       f"no LOCALONLY")


def check(decl, sdk):
    if decl.base not in sdk.classes:
        raise IigError(f"{decl.source}: base class {decl.base} is not declared by any included .iig")
    for m in decl.methods:
        if m.type is not None:
            check_type(m, sdk)
        if m.override:
            base_method, final = sdk.find(decl.base, m.name)
            if base_method is None:
                raise IigError(f"{m.where}: {m.name} is marked override but no base class of "
                               f"{decl.name} declares it")
            if final:
                raise IigError(f"{m.where}: {m.name} is final in a base class of {decl.name} "
                               f"and cannot be overridden")
            if m.signature() != base_method.signature():
                raise IigError(f"{m.where}: {m.signature()} does not match the base class's "
                               f"{base_method.signature()}")
            base_localonly = sdk.kind(decl.base, m.name)
            if m.localonly and not base_localonly:
                raise IigError(f"{m.where}: {m.name} is a message in the base class; LOCALONLY "
                               f"cannot change that in an override")
            m.localonly = base_localonly
        if not m.localonly:
            refs = [p for p in m.param_list if "&" in p]
            if refs:
                raise IigError(f"{m.where}: message {m.name} takes a reference parameter "
                               f"({refs[0]}); messages are marshalled and take none: "
                               f"declare it LOCALONLY or pass a pointer")


def header(source, prologue, decl):
    cls, base = decl.name, decl.base
    out = [f"// Generated by hostkit_iig.py from {source}. Do not edit.", "#pragma once", ""]
    out += [line for line in prologue if line and not line.startswith("#pragma once")]
    out += ["", f"struct {cls}_IVars;", "", f"class {cls} : public {base} {{",
            f"  typedef {base} super;", f"  HOSTKIT_METACLASS({cls})", "", " public:",
            f"  {cls}_IVars* ivars = nullptr;", ""]
    impls = []
    for m in decl.methods:
        if m.type is not None:
            out.append(f"  kern_return_t CreateAction{m.name}(size_t referenceSize, "
                       f"OSAction** action);")
        quals = (" override" if m.override else "") + (" final" if m.final else "")
        if m.localonly:
            out.append(f"  virtual {m.ret} {m.name}({m.params}){quals};")
            continue
        front = f"{m.params}, " if m.params else ""
        call = ", ".join(m.names)
        super_call = f"super::{m.name}_Impl({call})" if m.override else f"{m.name}_Impl({call})"
        out += [
            f"  {m.ret} {m.name}({front}OSDispatchMethod supermethod = nullptr) {{",
            "    if (supermethod != nullptr) {",
            f"      return {super_call};",
            "    }",
            f"    hostkit::assert_on_driver_queue(\"{cls}::{m.name}\");",
            f"    return {m.name}_Impl({call});",
            "  }",
        ]
        impls.append(f"  {'' if m.override else 'virtual '}{m.ret} {m.name}_Impl({m.params}){quals};")
    if impls:
        out += ["", " protected:"] + impls
    out += ["};", ""]
    for m in decl.methods:
        if not m.localonly:
            out.append(f"#define {cls}_{m.name}_Args {m.params}")
    out.append("")
    return "\n".join(out)


def implementation(source, header_name, decl):
    out = [f"// Generated by hostkit_iig.py from {source}. Do not edit.",
           f"#include \"{header_name}\"", "", "#include <tuple>", "",
           "#include \"hostkit/runtime.hpp\"", "",
           f"HOSTKIT_METACLASS_DEFINE({decl.name}, {decl.base});",
           f"HOSTKIT_REGISTER_CLASS({decl.name});"]
    for m in decl.methods:
        if m.type is None:
            continue
        cls, method = m.type
        types = ", ".join(re.sub(r"\s+", " ", p[: p.rindex(n)]).strip()
                          for p, n in zip(m.param_list[1:], m.names[1:]))
        unpacked = ", ".join(f"std::get<{i}>(args)" for i in range(len(m.names) - 1))
        out += ["",
                f"// TYPE({cls}::{method}): the action delivers to {m.name} on the driver queue.",
                f"kern_return_t {decl.name}::CreateAction{m.name}(size_t referenceSize, "
                f"OSAction** action) {{",
                f"  return OSAction::hostkitCreate(",
                f"      \"{cls}::{method}\", this, referenceSize,",
                f"      [](OSAction* self, const void* packed) {{",
                f"        const auto& args = *static_cast<const std::tuple<{types}>*>(packed);",
                f"        static_cast<{decl.name}*>(self->hostkitTarget())->{m.name}("
                f"self{', ' if unpacked else ''}{unpacked});",
                "      },",
                "      action);",
                "}"]
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--def", dest="definition", required=True)
    parser.add_argument("--header", required=True)
    parser.add_argument("--impl", required=True)
    parser.add_argument("--sdk", default=SDK_DIR)
    args = parser.parse_args()
    try:
        with open(args.definition, encoding="utf-8") as f:
            decl, prologue = parse(f.read(), args.definition)
        sdk = Sdk(args.sdk)
        for include in decl.includes:
            sdk.load_include(include)
        check(decl, sdk)
    except (IigError, OSError) as error:
        print(f"hostkit_iig: error: {error}", file=sys.stderr)
        return 1
    source = os.path.basename(args.definition)
    header_name = os.path.basename(args.header)
    with open(args.header, "w", encoding="utf-8") as f:
        f.write(header(source, prologue, decl))
    with open(args.impl, "w", encoding="utf-8") as f:
        f.write(implementation(source, header_name, decl))
    return 0


if __name__ == "__main__":
    sys.exit(main())
