//! Tests of the buffer model itself, with a toy two-layer format.

use alloc::vec;

use super::*;

/// A toy header: one length byte, then the body, then a one-byte trailer.
#[derive(Debug)]
struct Toy<B> {
    len: u8,
    body: B,
}

impl<B: PacketBytes> ParsablePacket<B> for Toy<B> {
    type Args = ();
    type Error = ();

    fn parse(view: &mut ParseView<B>, _: ()) -> Result<Self, ()> {
        let len = view.take_front(1).ok_or(())?[0];
        view.take_back(1).ok_or(())?;
        let body = view.take_rest();
        if body.len() != usize::from(len) {
            return Err(());
        }
        Ok(Self { len, body })
    }

    fn parse_metadata(&self) -> ParseMetadata {
        ParseMetadata { header_len: 1, body_len: self.body.len(), footer_len: 1 }
    }
}

struct ToyBuilder;

impl PacketBuilder for ToyBuilder {
    fn constraints(&self) -> PacketConstraints {
        PacketConstraints { header_len: 1, footer_len: 1, min_body_len: 4, max_body_len: 200 }
    }

    fn serialize(&self, target: &mut SerializeTarget<'_>, body: &[u8]) {
        target.header[0] = body.len() as u8;
        target.footer[0] = 0xee;
    }
}

#[test]
fn nested_serialize_pads_then_parses_back_in_place() {
    let s = (&[1u8, 2][..]).encapsulate(ToyBuilder).encapsulate(ToyBuilder);
    assert_eq!((s.header_room(), s.len()), (2, 8));
    let mut buf = s.serialize_vec().unwrap();
    // Inner: [4, 1, 2, 0, 0, ee]; outer body is 6 bytes, no padding needed.
    assert_eq!(buf.body(), &[6, 4, 1, 2, 0, 0, 0xee, 0xee]);
    let outer = buf.parse::<Toy<_>>(()).unwrap();
    assert_eq!(outer.len, 6);
    let meta = outer.parse_metadata();
    let inner = buf.parse::<Toy<_>>(()).unwrap();
    assert_eq!(inner.body, &[1, 2, 0, 0]);
    let inner_meta = inner.parse_metadata();
    buf.undo_parse(inner_meta);
    buf.undo_parse(meta);
    assert_eq!(buf.len(), 8);
}

#[test]
fn failed_parse_leaves_buffer_untouched() {
    let mut storage = [3u8, 1, 2, 0xee];
    let mut buf = Buf::from_body(&mut storage[..]);
    assert!(buf.parse::<Toy<_>>(()).is_err());
    assert_eq!(buf.body_range(), 0..4);
}

#[test]
fn encapsulate_in_place_writes_no_body_bytes() {
    // A pooled buffer: the payload was written at offset 8 by its producer.
    let mut storage = [0u8; 32];
    storage[8..12].copy_from_slice(b"data");
    let mut buf = Buf::new(&mut storage[..], 8..12);
    InPlace { len: 4 }.encapsulate(ToyBuilder).serialize_into(&mut buf).unwrap();
    assert_eq!(buf.body(), b"\x04data\xee");
    assert_eq!(buf.body_range(), 7..13);
}

#[test]
fn encapsulate_reports_missing_room_and_oversize_bodies() {
    let mut storage = [0u8; 8];
    let mut buf = Buf::new(&mut storage[..], 0..4);
    assert_eq!(
        buf.encapsulate(&ToyBuilder),
        Err(SerializeError::NoRoom { header: 1, footer: 1, prefix: 0, suffix: 4 })
    );
    assert_eq!(buf.body_range(), 0..4);
    let big = vec![0u8; 300];
    assert_eq!(
        (&big[..]).encapsulate(ToyBuilder).serialize_vec().unwrap_err(),
        SerializeError::BodyTooLong { len: 300, max: 200 }
    );
}

#[test]
fn view_take_back_and_front_bounds() {
    let data = [1u8, 2, 3];
    let mut view = ParseView::new(&data[..]);
    assert!(view.take_front(4).is_none());
    assert!(view.take_back(4).is_none());
    assert_eq!(view.take_back(1), Some(&[3u8][..]));
    assert_eq!(view.take_front(1), Some(&[1u8][..]));
    assert_eq!(view.consumed(), (1, 1));
    assert_eq!(view.take_rest(), &[2u8][..]);
    assert!(view.is_empty());
}
