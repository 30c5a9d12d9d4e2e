"""C++ message and gRPC code from .proto files, with the system protoc.

Bazel's own proto rules would build protoc and gRPC from source (downloads);
this macro runs Debian's /usr/bin/protoc and /usr/bin/grpc_cpp_plugin
(packages protobuf-compiler, protobuf-compiler-grpc) in a genrule, the same
command protos/CMakeLists.txt runs, and compiles the output against the
system libprotobuf and grpc++ (so versions always match).
"""

load("@rules_cc//cc:defs.bzl", "cc_library")

PROTOC = "/usr/bin/protoc"
GRPC_CPP_PLUGIN = "/usr/bin/grpc_cpp_plugin"

def cc_grpc_proto_library(name, srcs, deps = [], **kwargs):
    """cc_library `name` with <stem>.pb.{h,cc} and <stem>.grpc.pb.{h,cc} of srcs.

    The package folder is the proto root: a file protos/deliverd/v1/x.proto
    of package //protos is imported as "deliverd/v1/x.proto" and its code
    is included as "deliverd/v1/x.pb.h" / "deliverd/v1/x.grpc.pb.h".

    Args:
      name: the cc_library.
      srcs: .proto files of this package.
      deps: more cc_library dependencies.
      **kwargs: passed to the cc_library (visibility, tags...).
    """
    hdrs = []
    ccs = []
    for src in srcs:
        if not src.endswith(".proto"):
            fail("cc_grpc_proto_library: %s is not a .proto file" % src)
        stem = src[:-len(".proto")]
        hdrs += [stem + ".pb.h", stem + ".grpc.pb.h"]
        ccs += [stem + ".pb.cc", stem + ".grpc.pb.cc"]

    package = native.package_name()
    out = "$(GENDIR)/" + package if package else "$(GENDIR)"
    native.genrule(
        name = name + "_codegen",
        srcs = srcs,
        outs = hdrs + ccs,
        cmd = " ".join([
            PROTOC,
            "--proto_path=" + (package if package else "."),
            "--cpp_out=" + out,
            "--grpc_out=" + out,
            "--plugin=protoc-gen-grpc=" + GRPC_CPP_PLUGIN,
            "$(SRCS)",
        ]),
        message = "protoc and grpc_cpp_plugin",
    )
    cc_library(
        name = name,
        srcs = ccs,
        hdrs = hdrs,
        includes = ["."],
        # Generated code is not ours to warn about (as in protos/CMakeLists.txt).
        copts = ["-w"],
        deps = deps + [
            "//bazel/system:grpc++",
            "//bazel/system:protobuf",
        ],
        **kwargs
    )
