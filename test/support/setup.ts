// Loaded before every test file: the environment our real test servers need on this stack.
// s3rver pages lists with a legacy cipher, and the AWS SDK's default streaming checksums
// would store chunk framing in s3rver, so tests ask for checksums only when required.
process.env.AWS_REQUEST_CHECKSUM_CALCULATION ??= 'WHEN_REQUIRED';
process.env.AWS_RESPONSE_CHECKSUM_VALIDATION ??= 'WHEN_REQUIRED';
process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
process.env.AWS_REGION ??= 'us-east-1';
