"""The protobuf schemas of the channels: Foxglove's own (from foxglove_schemas_protobuf) and
horus.Tensor, as serialized FileDescriptorSets with their imports (cached)."""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2


def _file_descriptor_set(*files: Any) -> bytes:
    """A FileDescriptorSet of `files` (FileDescriptors or FileDescriptorProtos) and everything
    they import, dependencies first."""
    fds = descriptor_pb2.FileDescriptorSet()
    seen: set[str] = set()

    def add(fd: Any) -> None:
        if fd.name in seen:
            return
        seen.add(fd.name)
        for dep in fd.dependencies:
            add(dep)
        fd.CopyToProto(fds.file.add())

    for f in files:
        if isinstance(f, descriptor_pb2.FileDescriptorProto):
            if f.name not in seen:
                seen.add(f.name)
                fds.file.add().CopyFrom(f)
        else:
            add(f)
    return bytes(fds.SerializeToString(deterministic=True))


def _foxglove_schema(name: str) -> tuple[str, bytes]:
    import importlib

    mod = importlib.import_module(f"foxglove_schemas_protobuf.{name}_pb2")
    desc = getattr(mod, name).DESCRIPTOR
    return desc.full_name, _file_descriptor_set(desc.file)


def _tensor_file() -> descriptor_pb2.FileDescriptorProto:
    """horus/Tensor.proto, horus's own schema for Tensors (and Tensors of records):

        syntax = "proto3";
        package horus;
        import "google/protobuf/timestamp.proto";
        message Tensor {
          google.protobuf.Timestamp timestamp = 1;  // the message's timestamp_ns
          string frame_id = 2;
          string dtype = 3;              // bool, int8..int64, uint8..uint64, float16/32/64
          repeated uint64 shape = 4;     // packed; () for a 0-d tensor
          bytes data = 5;                // the elements in C order, little-endian
          string record_type = 6;        // Tensor of records: the record type's name
          fixed64 record_layout_hash = 7;  // ... and its layout hash (dtype uint8, shape (..., size))
        }
    """
    F = descriptor_pb2.FieldDescriptorProto
    f = descriptor_pb2.FileDescriptorProto(
        name="horus/Tensor.proto", package="horus", syntax="proto3", dependency=["google/protobuf/timestamp.proto"]
    )
    m = f.message_type.add(name="Tensor")
    for name, number, ftype, label, type_name in (
        ("timestamp", 1, F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".google.protobuf.Timestamp"),
        ("frame_id", 2, F.TYPE_STRING, F.LABEL_OPTIONAL, ""),
        ("dtype", 3, F.TYPE_STRING, F.LABEL_OPTIONAL, ""),
        ("shape", 4, F.TYPE_UINT64, F.LABEL_REPEATED, ""),
        ("data", 5, F.TYPE_BYTES, F.LABEL_OPTIONAL, ""),
        ("record_type", 6, F.TYPE_STRING, F.LABEL_OPTIONAL, ""),
        ("record_layout_hash", 7, F.TYPE_FIXED64, F.LABEL_OPTIONAL, ""),
    ):
        fd = m.field.add(name=name, number=number, type=ftype, label=label, json_name=_camel(name))
        if type_name:
            fd.type_name = type_name
    return f


def _camel(s: str) -> str:
    head, *rest = s.split("_")
    return head + "".join(p.title() for p in rest)


_schemas: dict[str, tuple[str, bytes]] = {}


def _schema(which: str) -> tuple[str, bytes]:
    got = _schemas.get(which)
    if got is None:
        if which == "Tensor":
            from google.protobuf import timestamp_pb2

            got = ("horus.Tensor", _file_descriptor_set(timestamp_pb2.DESCRIPTOR, _tensor_file()))
        else:
            got = _foxglove_schema(which)
        _schemas[which] = got
    return got
