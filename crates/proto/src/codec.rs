//! The codec every generated client and server uses: prost's, with small buffers.
//!
//! tonic gives each RPC an 8 KiB encode buffer and an 8 KiB decode buffer for as long as
//! the RPC lives. A router holds one agent session per logged-in agent for a whole
//! shift, mostly carrying heartbeats of a few bytes, so that is 16 KiB per agent doing
//! nothing (160 MB at 10,000 agents). The buffers here start at 1 KiB and grow when a
//! message needs it (a screen pop is a few KiB).

use std::marker::PhantomData;
use tonic::codec::{BufferSettings, Codec};
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

/// Bytes an RPC's encode and decode buffers start with.
pub const BUFFER_BYTES: usize = 1024;
/// tonic's default: encoded bytes after which a streaming response yields to hyper.
const YIELD_THRESHOLD: usize = 32 * 1024;

/// prost encoding with [`BUFFER_BYTES`] buffers (named in build.rs as the codec path).
#[derive(Debug, Clone)]
pub struct LeanCodec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for LeanCodec<T, U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

fn settings() -> BufferSettings {
    BufferSettings::new(BUFFER_BYTES, YIELD_THRESHOLD)
}

impl<T, U> Codec for LeanCodec<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ProstDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::raw_encoder(settings())
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstCodec::<T, U>::raw_decoder(settings())
    }
}
