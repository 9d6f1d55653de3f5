"""Native crashes: what an event's minidump (attachment_type "event.minidump") says, read with
the `minidump` library (pure Python, MIT) in the digest, never on the request path.

Read: the exception stream (the crash reason and its code, the fault address, the crashing
thread), the module list (the module holding the crashing instruction), the system info stream
(OS, its version and build, CPU architecture and count) and, for x86-64 and x86, the crashing
thread's instruction pointer from its saved context: the top frame, as module + offset. Not
read: deeper frames (that needs unwind info or symbols; no stack walking is guessed here) and
ARM contexts. The library is only ever handed streams whose sizes and counts were checked
against the file first, so a damaged file is an error here, never a hang.

The event keeps what its SDK sent: the minidump fills in only what is missing (the exception,
contexts.os, contexts.device). A minidump that cannot be read leaves the event titled "Native
crash", the reason named in its problems; the file is stored as an attachment either way.
"""

import logging
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass, field
from typing import IO, Any

# The minidump library ships no type hints.
from minidump.common_structs import MINIDUMP_LOCATION_DESCRIPTOR  # type: ignore[import-untyped]
from minidump.directory import MINIDUMP_DIRECTORY  # type: ignore[import-untyped]
from minidump.streams.ContextStream import CONTEXT, WOW64_CONTEXT  # type: ignore[import-untyped]
from minidump.streams.ExceptionStream import (  # type: ignore[import-untyped]
    ExceptionCode,
    ExceptionList,
)
from minidump.streams.ModuleListStream import MinidumpModuleList  # type: ignore[import-untyped]
from minidump.streams.SystemInfoStream import (  # type: ignore[import-untyped]
    PLATFORM_ID,
    MinidumpSystemInfo,
)

logger = logging.getLogger(__name__)

MINIDUMP_TYPE = "event.minidump"
UNREADABLE_TITLE = "Native crash"
MAX_STREAMS = 4096
MAX_MODULES = 8192  # real processes load hundreds at most
MAX_NAME = 64 * 1024  # bytes of one module's name (UTF-16)
_SYSTEM_INFO, _EXCEPTION, _MODULES = 7, 6, 4
_AMD64, _X86 = 9, 0
_OS_NAMES = {
    0x8101: "macOS",
    0x8102: "iOS",
    0x8201: "Linux",
    0x8202: "Solaris",
    0x8203: "Android",
    0x8205: "NaCl",
    0x8206: "Fuchsia",
}
_CPU_NAMES = {0: "x86", 5: "arm", 6: "ia64", 9: "x86_64", 12: "arm64", 0x8003: "arm64"}


class UnreadableMinidump(Exception):
    pass


@dataclass
class Module:
    name: str
    base: int
    size: int

    @property
    def short_name(self) -> str:
        return self.name.replace("\\", "/").rsplit("/", 1)[-1] or self.name


@dataclass
class Crash:
    """What was read; None/empty where the minidump did not say."""

    reason: str | None = None  # "SIGSEGV", "EXCEPTION_ACCESS_VIOLATION", "0x...": the code's name
    code: int | None = None
    address: int | None = None  # the fault address of the exception record
    thread_id: int | None = None
    instruction: int | None = None  # the crashing thread's instruction pointer
    module: Module | None = None  # the module holding `instruction`
    modules: list[Module] = field(default_factory=list)
    os_name: str | None = None
    os_version: str | None = None
    os_build: str | None = None
    arch: str | None = None
    cpu_count: int | None = None
    problems: list[str] = field(default_factory=list)  # streams that could not be read


def _seekable(source: IO[bytes]) -> IO[bytes]:
    try:
        if source.seekable():
            return source
    except (AttributeError, OSError):
        pass
    copy = tempfile.TemporaryFile()  # a chunked copy to disk: never the whole file in memory
    shutil.copyfileobj(source, copy, 1024 * 1024)
    copy.seek(0)
    return copy


def read_minidump(source: IO[bytes]) -> Crash:
    """What the minidump says; UnreadableMinidump if it is not one or its directory is broken."""
    f = _seekable(source)
    try:
        return _read_file(f)
    finally:
        if f is not source:
            f.close()  # the copy on disk


def _read_file(f: IO[bytes]) -> Crash:
    f.seek(0, os.SEEK_END)
    file_size = f.tell()
    f.seek(0)
    header = f.read(32)
    if len(header) < 32 or header[:4] != b"MDMP":
        raise UnreadableMinidump("not a minidump (no MDMP signature)")
    count, directory_at = struct.unpack_from("<II", header, 8)
    if count > MAX_STREAMS or directory_at + 12 * count > file_size:
        raise UnreadableMinidump("the stream directory lies outside the file")
    streams: dict[int, MINIDUMP_DIRECTORY] = {}
    for i in range(count):
        f.seek(directory_at + 12 * i)
        stream_type, size, rva = struct.unpack("<III", f.read(12))
        if stream_type in (_SYSTEM_INFO, _EXCEPTION, _MODULES) and stream_type not in streams:
            if rva + size > file_size:
                raise UnreadableMinidump(f"stream {stream_type} lies outside the file")
            f.seek(directory_at + 12 * i)
            directory = MINIDUMP_DIRECTORY.parse(f)
            if directory is not None:
                streams[stream_type] = directory
    if not streams:
        raise UnreadableMinidump("no exception, module or system info stream")
    crash = Crash()
    platform = _read(crash, "system info", _system_info, f, streams.get(_SYSTEM_INFO))
    arch_code = platform if isinstance(platform, int) else None
    _read(crash, "module list", _modules, f, streams.get(_MODULES), file_size)
    _read(crash, "exception", _exception, f, streams.get(_EXCEPTION), arch_code, file_size)
    if crash.instruction is not None:
        for module in crash.modules:
            if module.base <= crash.instruction < module.base + module.size:
                crash.module = module
                break
    return crash


def _read(crash: Crash, what: str, reader, f, directory, *args) -> Any:
    """One stream: a stream that fails is named in crash.problems; the others are still read."""
    if directory is None:
        return None
    try:
        return reader(crash, f, directory, *args)
    except Exception as exc:
        crash.problems.append(f"the {what} stream could not be read ({type(exc).__name__})")
        return None


def _system_info(crash: Crash, f, directory) -> int:
    f.seek(directory.Location.Rva)
    arch_code, _, _, count = struct.unpack("<HHHB", f.read(7))
    crash.arch = _CPU_NAMES.get(arch_code, f"0x{arch_code:x}")
    crash.cpu_count = count or None
    info = MinidumpSystemInfo.parse(directory, f)
    platform = info.PlatformId.value if isinstance(info.PlatformId, PLATFORM_ID) else None
    if platform == PLATFORM_ID.VER_PLATFORM_WIN32_NT.value:
        crash.os_name = "Windows"
    else:
        crash.os_name = _OS_NAMES.get(platform) if platform is not None else None
    crash.os_version = f"{info.MajorVersion}.{info.MinorVersion}.{info.BuildNumber}"
    build = (info.CSDVersion or "").strip()
    crash.os_build = build[:200] or None
    return arch_code


def _modules(crash: Crash, f, directory, file_size) -> None:
    at = directory.Location.Rva
    f.seek(at)
    (count,) = struct.unpack("<I", f.read(4))
    if count > MAX_MODULES or 4 + 108 * count > directory.Location.DataSize:
        raise UnreadableMinidump("the module count is larger than its stream")
    for i in range(count):  # each name's length, before the library reads it
        f.seek(at + 4 + 108 * i + 20)  # MINIDUMP_MODULE.ModuleNameRva
        (name_at,) = struct.unpack("<I", f.read(4))
        f.seek(name_at)
        length = f.read(4)
        if len(length) < 4 or struct.unpack("<I", length)[0] > MAX_NAME:
            raise UnreadableMinidump("a module's name lies outside the file or is too long")
        if name_at + 4 + struct.unpack("<I", length)[0] > file_size:
            raise UnreadableMinidump("a module's name lies outside the file")
    for module in MinidumpModuleList.parse(directory, f).modules:
        crash.modules.append(Module(str(module.name or "?")[:500], module.baseaddress, module.size))


def _exception(crash: Crash, f, directory, arch_code, file_size) -> None:
    if directory.Location.DataSize < 168:
        raise UnreadableMinidump("the exception stream is too short")
    (record,) = ExceptionList.parse(directory, f).exception_records[:1] or (None,)
    if record is None:
        return
    exc = record.ExceptionRecord
    crash.thread_id = record.ThreadId
    crash.code = exc.ExceptionCode_raw
    crash.address = exc.ExceptionAddress
    crash.reason = _reason(exc.ExceptionCode, exc.ExceptionCode_raw, crash.os_name)
    context: MINIDUMP_LOCATION_DESCRIPTOR = record.ThreadContext
    if context.Rva + context.DataSize > file_size:
        raise UnreadableMinidump("the crashing thread's context lies outside the file")
    f.seek(context.Rva)
    if arch_code == _AMD64 and context.DataSize >= 0x100:
        crash.instruction = CONTEXT.parse(f).Rip
    elif arch_code == _X86 and context.DataSize >= 0xC0:
        crash.instruction = WOW64_CONTEXT.parse(f).Eip


def _reason(name: ExceptionCode, raw: int, os_name: str | None) -> str:
    # The library names Windows codes and Linux signals; Apple's codes are neither.
    if name is ExceptionCode.EXCEPTION_UNKNOWN or os_name in ("macOS", "iOS"):
        return f"0x{raw:x}"
    if os_name in ("Linux", "Android") and name.name.startswith("EXCEPTION_SIG"):
        return name.name[len("EXCEPTION_") :]
    return name.name


def minidump_of(spooled):
    """The spooled event's minidump attachment, or None."""
    for attachment in spooled.attachments:
        if attachment.attachment_type == MINIDUMP_TYPE:
            return attachment
    return None


def apply_minidump(data: dict, spooled, flag) -> None:
    """Fill in the event (normalised data) from its minidump; flag(path, problem) notes what
    could not be read. Never raises."""
    attachment = minidump_of(spooled)
    if attachment is None:
        return
    try:
        with attachment.open() as source:
            crash = read_minidump(source)
    except UnreadableMinidump as exc:
        crash, failure = None, str(exc)
    except Exception as exc:  # a bug in the library or here: the event is stored all the same
        logger.warning("minidump of event %s could not be read", spooled.event_id, exc_info=True)
        crash, failure = None, f"{type(exc).__name__}: {exc}"[:200]
    data.setdefault("platform", "native")
    has_exception = bool((data.get("exception") or {}).get("values"))
    if crash is None:
        flag(f"attachments.{attachment.filename}", f"the minidump could not be read: {failure}")
        if not has_exception:
            data["exception"] = {"values": [_exception_value(UNREADABLE_TITLE, "", None)]}
        return
    problems = list(crash.problems)
    if crash.reason is None and not has_exception:
        problems.append("it names no exception (no crash reason)")
    for problem in problems:
        flag(f"attachments.{attachment.filename}", f"minidump: {problem}")
    found = data.get("contexts")
    contexts: dict[str, Any] = found if isinstance(found, dict) else {}
    if crash.os_name and "os" not in contexts:
        contexts["os"] = {
            "type": "os",
            "name": crash.os_name,
            "version": crash.os_version,
            **({"build": crash.os_build} if crash.os_build else {}),
        }
    if crash.arch and "device" not in contexts:
        contexts["device"] = {"type": "device", "arch": crash.arch}
        if crash.cpu_count:
            contexts["device"]["processor_count"] = crash.cpu_count
    if contexts:
        data["contexts"] = contexts
    if has_exception:
        return
    exc_type, value, detail = _summary(crash)
    data["exception"] = {"values": [_exception_value(exc_type, value, detail)]}
    if detail["culprit"] and not data.get("culprit"):
        data["culprit"] = detail["culprit"]  # the module and offset, not "crashdemo in ?"


def _summary(crash: Crash) -> tuple[str, str, dict]:
    """(type, value, detail): the value names the crashing module and offset (stable across
    occurrences: the fault address, which is not, goes to the mechanism's meta)."""
    value, frame, culprit = "", None, None
    if crash.module is not None and crash.instruction is not None:
        offset = crash.instruction - crash.module.base
        value = f"in {crash.module.short_name} at +0x{offset:x}"
        culprit = f"{crash.module.short_name} +0x{offset:x}"
        # No symbols: the frame is the module and the address, no function name is made up.
        frame = {
            "instruction_addr": f"0x{crash.instruction:x}",
            "package": crash.module.name,
            "filename": crash.module.short_name,
            "module_offset": f"0x{offset:x}",
        }
    elif crash.instruction is not None:
        value = "at an address in no listed module"
        frame = {"instruction_addr": f"0x{crash.instruction:x}"}
    meta = {"code": crash.code, "address": crash.address}
    detail = {"frame": frame, "meta": meta, "culprit": culprit, **_tid(crash)}
    return crash.reason or UNREADABLE_TITLE, value, detail


def _tid(crash: Crash) -> dict:
    return {"thread_id": crash.thread_id} if crash.thread_id is not None else {}


def _exception_value(exc_type: str, value: str, detail: dict | None) -> dict:
    mechanism: dict[str, Any] = {"type": "minidump", "handled": False}
    result: dict[str, Any] = {"type": exc_type, "value": value, "mechanism": mechanism}
    if detail:
        code, address = detail["meta"]["code"], detail["meta"]["address"]
        meta = {"code": code} if code is not None else {}
        if address is not None:
            meta["fault_address"] = f"0x{address:x}"
        if meta:
            mechanism["meta"] = meta
        if "thread_id" in detail:
            result["thread_id"] = detail["thread_id"]
        if detail["frame"]:
            result["stacktrace"] = {"frames": [detail["frame"]]}
    return result
