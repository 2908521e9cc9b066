using System.Net;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Faultline.Retention;

/// <summary>
/// Archive objects in an S3-compatible bucket (AWS S3, MinIO, s3rver). Uploads are single PUTs with
/// chunked encoding off: with AWSSDK.S3 4.x some servers otherwise store the chunk-signing framing
/// inside the object (and still answer 200), so the sweep also reads every object back and checks it.
/// </summary>
public sealed class S3Archive : IArchiveTarget, IDisposable
{
    private readonly AmazonS3Client _client;
    private readonly string _bucket;
    private readonly string _prefix;

    public S3Archive(S3ArchiveOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Bucket))
        {
            throw new InvalidOperationException("Faultline:Retention:Archive:S3:Bucket is required when the archive target is s3.");
        }
        _bucket = options.Bucket;
        _prefix = string.IsNullOrEmpty(options.Prefix) || options.Prefix.EndsWith('/') ? options.Prefix ?? string.Empty : options.Prefix + "/";
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (!string.IsNullOrWhiteSpace(options.ServiceUrl))
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }
        // Without configured keys the SDK's default chain applies: environment, profile, container or instance role.
        _client = string.IsNullOrEmpty(options.AccessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey ?? string.Empty), config);
    }

    public string Describe => $"s3://{_bucket}/{_prefix}";

    public async Task PutAsync(string key, Stream content, CancellationToken cancellationToken)
    {
        await _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _bucket,
            Key = _prefix + key,
            InputStream = content,
            AutoCloseStream = false,
            UseChunkEncoding = false,
        }, cancellationToken);
    }

    public async Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _client.GetObjectAsync(_bucket, _prefix + key, cancellationToken);
            return response.ResponseStream;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        await _client.DeleteObjectAsync(_bucket, _prefix + key, cancellationToken);

    public void Dispose() => _client.Dispose();
}
