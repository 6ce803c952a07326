//! Conformance: each test states one documented behaviour of a library a resim policy is
//! named after, cites where it is documented, and checks resim against it.

mod aws_sdk;
mod finagle;
mod grpc;
mod polly;
mod resilience4j;
mod stripe;
