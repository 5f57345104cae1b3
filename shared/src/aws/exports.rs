//! The export bucket on S3: one JSON object per data request. The bucket's own settings
//! (template: `ExportsBucket`) encrypt it, block public access and expire objects; this
//! adapter only writes.

use super::boxed;
use crate::ports::{ExportError, ExportLocation, ExportSink};
use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;

pub struct S3ExportSink {
    client: Client,
    bucket: String,
}

impl S3ExportSink {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }

    /// The S3 client for `sdk`: path-style addressing when an endpoint is overridden (the
    /// local stack on `127.0.0.1:<port>` has no `<bucket>.` host names), virtual-hosted on AWS.
    pub fn client(sdk: &aws_config::SdkConfig) -> Client {
        let local = sdk.endpoint_url().is_some();
        Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(local).build())
    }
}

#[async_trait]
impl ExportSink for S3ExportSink {
    async fn put_export(&self, key: &str, json: Vec<u8>) -> Result<ExportLocation, ExportError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .body(ByteStream::from(json))
            .send()
            .await
            .map_err(|e| ExportError::Backend(boxed(e)))?;
        Ok(ExportLocation { bucket: self.bucket.clone(), key: key.to_owned() })
    }
}
