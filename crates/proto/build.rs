//! Compile proto/callcenter/v1 with protox (no system protoc), keep the encoded
//! descriptor set for gRPC reflection, and generate the tonic/prost code.

use protox::prost::Message;
use std::path::PathBuf;

const FILES: [&str; 7] = [
    "callcenter/v1/common.proto",
    "callcenter/v1/incident.proto",
    "callcenter/v1/crm.proto",
    "callcenter/v1/agent.proto",
    "callcenter/v1/caller.proto",
    "callcenter/v1/supervisor.proto",
    "callcenter/v1/report.proto",
];

const ECHO: &str = "bench/echo.proto";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    println!("cargo:rerun-if-changed={}", root.display());
    for f in FILES {
        println!("cargo:rerun-if-changed={}", root.join(f).display());
    }
    let fds = protox::compile(FILES, [&root])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("callcenter_v1_descriptor.bin"),
        fds.encode_to_vec(),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .codec_path("crate::codec::LeanCodec")
        .compile_fds(fds)?;
    // the benchmark's echo service (not part of the contract)
    println!("cargo:rerun-if-changed={}", root.join(ECHO).display());
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .codec_path("crate::codec::LeanCodec")
        .compile_fds(protox::compile([ECHO], [&root])?)?;
    Ok(())
}
