using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Faultline.Operations;

/// <summary>
/// Documents a request body that the handler reads itself. `.Accepts&lt;T&gt;()` would also make
/// routing refuse other content types with a bare 415; ingest must accept what SDKs send.
/// </summary>
public sealed record RequestBodyDocumentation(Type Schema, IReadOnlyList<string> ContentTypes)
{
    public static async Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var documentation = context.Description.ActionDescriptor.EndpointMetadata.OfType<RequestBodyDocumentation>().FirstOrDefault();
        if (documentation is null)
        {
            return;
        }
        var schema = await context.GetOrCreateSchemaAsync(documentation.Schema, null, cancellationToken);
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Content = documentation.ContentTypes.ToDictionary(t => t, _ => new OpenApiMediaType { Schema = schema }),
        };
    }
}
