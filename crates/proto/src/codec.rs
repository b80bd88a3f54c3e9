//! The codec every generated client and server uses: prost's, with small buffers.
//!
//! tonic gives each RPC an 8 KiB encode buffer and an 8 KiB decode buffer for as long as
//! the RPC lives. A router holds one agent session per logged-in agent for a whole
//! shift, mostly carrying heartbeats of a few bytes, so that is 16 KiB per agent doing
//! nothing (160 MB at 10,000 agents). The buffers here start at 1 KiB and grow when a
//! message needs it (a screen pop is a few KiB).

//!
//! Its decoder also says what is wrong with a bad message in the conventional status:
//! bytes that do not decode are `INVALID_ARGUMENT` (prost's codec says `INTERNAL`, as if
//! the server had failed), and a message over [`MAX_MESSAGE_BYTES`] is
//! `RESOURCE_EXHAUSTED`.

use std::marker::PhantomData;
use tonic::Status;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

/// The largest message a client may send, in bytes (a wrap-up with the longest notes
/// and tickets is about 40 KB).
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;
/// What the transport buffers before the codec sees a message: messages between
/// [`MAX_MESSAGE_BYTES`] and this get `RESOURCE_EXHAUSTED` from the codec; beyond it
/// tonic itself refuses them (`OUT_OF_RANGE`). Servers set it with
/// `max_decoding_message_size`.
pub const TRANSPORT_LIMIT_BYTES: usize = 64 * 1024 * 1024;

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
    type Decoder = CheckedDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::raw_encoder(settings())
    }

    fn decoder(&mut self) -> Self::Decoder {
        CheckedDecoder(ProstCodec::<T, U>::raw_decoder(settings()))
    }
}

/// prost's decoder, with a size limit and the conventional statuses.
#[derive(Debug)]
pub struct CheckedDecoder<U>(ProstDecoder<U>);

impl<U: prost::Message + Default> Decoder for CheckedDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        use bytes::Buf;
        let n = buf.remaining();
        if n > MAX_MESSAGE_BYTES {
            return Err(Status::resource_exhausted(format!(
                "the message is {n} bytes; at most {MAX_MESSAGE_BYTES} bytes are taken"
            )));
        }
        self.0.decode(buf).map_err(|e| {
            Status::invalid_argument(format!(
                "the message does not decode as {}: {}",
                std::any::type_name::<U>()
                    .rsplit("::")
                    .next()
                    .unwrap_or("a message"),
                e.message()
            ))
        })
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.0.buffer_settings()
    }
}
