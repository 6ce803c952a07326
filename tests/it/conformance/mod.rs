//! Conformance: each test states one documented behaviour of a library a resim policy is
//! named after, cites where it is documented, and checks resim against it.

mod grpc;
