namespace Faultline.Bench;

/// <summary>
/// Vocabulary the generated events are made of: exception types with plausible messages,
/// application and framework call sites, log messages, tags and breadcrumbs.
/// </summary>
internal static class EventCatalog
{
    public static readonly (string Type, string Module, string Value)[] Exceptions =
    [
        ("System.TimeoutException", "System.Private.CoreLib", "The operation has timed out after 30000 ms."),
        ("System.NullReferenceException", "System.Private.CoreLib", "Object reference not set to an instance of an object."),
        ("System.InvalidOperationException", "System.Private.CoreLib", "Sequence contains no elements."),
        ("System.ArgumentException", "System.Private.CoreLib", "Value does not fall within the expected range. (Parameter 'sku')"),
        ("System.ArgumentNullException", "System.Private.CoreLib", "Value cannot be null. (Parameter 'customerId')"),
        ("System.Collections.Generic.KeyNotFoundException", "System.Private.CoreLib", "The given key 'tenant-42' was not present in the dictionary."),
        ("System.FormatException", "System.Private.CoreLib", "The input string 'N/A' was not in a correct format."),
        ("System.IO.IOException", "System.Private.CoreLib", "Unable to read data from the transport connection: Connection reset by peer."),
        ("System.Net.Http.HttpRequestException", "System.Net.Http", "Response status code does not indicate success: 503 (Service Unavailable)."),
        ("System.Threading.Tasks.TaskCanceledException", "System.Private.CoreLib", "The request was canceled due to the configured HttpClient.Timeout of 100 seconds elapsing."),
        ("System.OperationCanceledException", "System.Private.CoreLib", "The operation was canceled."),
        ("System.UnauthorizedAccessException", "System.Private.CoreLib", "Access to the path '/var/lib/shop/export.csv' is denied."),
        ("System.Text.Json.JsonException", "System.Text.Json", "'<' is an invalid start of a value. Path: $ | LineNumber: 0 | BytePositionInLine: 0."),
        ("System.DivideByZeroException", "System.Private.CoreLib", "Attempted to divide by zero."),
        ("System.IndexOutOfRangeException", "System.Private.CoreLib", "Index was outside the bounds of the array."),
        ("System.ObjectDisposedException", "System.Private.CoreLib", "Cannot access a disposed object. Object name: 'DbConnection'."),
        ("Npgsql.PostgresException", "Npgsql", "40P01: deadlock detected"),
        ("Npgsql.NpgsqlException", "Npgsql", "Exception while reading from stream: timeout"),
        ("Microsoft.Data.Sqlite.SqliteException", "Microsoft.Data.Sqlite", "SQLite Error 5: 'database is locked'."),
        ("Shop.Payments.PaymentDeclinedException", "Shop.Payments", "Card declined by issuer: insufficient_funds"),
        ("Shop.Inventory.OutOfStockException", "Shop.Inventory", "SKU 88412 has no stock in warehouse AMS-2"),
        ("Shop.Identity.TokenExpiredException", "Shop.Identity", "The access token expired at 2024-05-01T10:00:00Z"),
        ("System.Security.Cryptography.CryptographicException", "System.Security.Cryptography", "Padding is invalid and cannot be removed."),
        ("System.NotSupportedException", "System.Private.CoreLib", "Specified method is not supported."),
    ];

    public static readonly string[] Namespaces =
    [
        "Shop.Orders", "Shop.Payments", "Shop.Catalog", "Shop.Identity", "Shop.Shipping",
        "Shop.Search", "Shop.Notifications", "Shop.Inventory", "Shop.Reporting", "Shop.Billing",
    ];

    public static readonly string[] Classes =
    [
        "Controller", "Service", "Repository", "Handler", "Client",
        "Validator", "Worker", "Cache", "Mapper", "Importer",
    ];

    public static readonly string[] Methods =
    [
        "GetAsync", "CreateAsync", "UpdateAsync", "DeleteAsync", "ListAsync", "ValidateAsync",
        "ProcessAsync", "HandleAsync", "ExecuteAsync", "LoadAsync", "SaveAsync", "PublishAsync",
        "RefreshAsync", "ImportBatchAsync", "ExportAsync", "ReserveAsync", "CaptureAsync",
        "RefundAsync", "ResolveAsync", "RenderAsync",
    ];

    /// <summary>Framework frames (in_app false): (module, function, file).</summary>
    public static readonly (string Module, string Function, string File)[] FrameworkFrames =
    [
        ("System.Runtime.CompilerServices.AsyncTaskMethodBuilder", "Start", "AsyncMethodBuilderCore.cs"),
        ("System.Threading.ExecutionContext", "RunInternal", "ExecutionContext.cs"),
        ("Microsoft.AspNetCore.Routing.EndpointMiddleware", "Invoke", "EndpointMiddleware.cs"),
        ("Microsoft.AspNetCore.Authorization.AuthorizationMiddleware", "Invoke", "AuthorizationMiddleware.cs"),
        ("Microsoft.AspNetCore.Authentication.AuthenticationMiddleware", "Invoke", "AuthenticationMiddleware.cs"),
        ("Microsoft.AspNetCore.Http.RequestDelegateFactory", "ExecuteTaskResult", "RequestDelegateFactory.cs"),
        ("Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Http.HttpProtocol", "ProcessRequests", "HttpProtocol.cs"),
        ("Npgsql.NpgsqlCommand", "ExecuteReader", "NpgsqlCommand.cs"),
        ("Dapper.SqlMapper", "QueryAsync", "SqlMapper.Async.cs"),
        ("System.Net.Http.HttpClient", "SendAsync", "HttpClient.cs"),
        ("System.Linq.Enumerable", "First", "First.cs"),
        ("System.Text.Json.JsonSerializer", "Deserialize", "JsonSerializer.Read.String.cs"),
    ];

    /// <summary>Log messages without an exception; some mention "timeout" so the text search finds them.</summary>
    public static readonly string[] Messages =
    [
        "Upstream timeout calling inventory-service",
        "Payment webhook signature mismatch",
        "Retrying SMTP delivery after timeout",
        "Cache stampede detected on catalog key",
        "Order total does not match line items",
        "Slow query exceeded 2000 ms threshold",
        "Feature flag service unreachable, using defaults",
        "Queue consumer lag above threshold",
        "Circuit breaker opened for shipping-rates",
        "Session store read timeout",
    ];

    public static readonly string[] Routes =
    [
        "/api/orders/{id}", "/api/cart", "/api/checkout", "/api/catalog/search", "/api/users/me",
        "/api/payments/webhook", "/api/shipping/rates", "/api/reports/daily",
    ];

    public static readonly string[] Releases = ["shop@2.3.0", "shop@2.3.1", "shop@2.4.0", "shop@2.4.1"];
    public static readonly string[] Regions = ["eu-west-1", "us-east-1", "ap-south-1"];
    public static readonly string[] Tiers = ["free", "pro", "enterprise"];
    public static readonly string[] Browsers = ["Chrome 126", "Firefox 127", "Safari 17", "Edge 126"];

    /// <summary>Breadcrumbs: (category, message, level).</summary>
    public static readonly (string Category, string Message, string Level)[] Breadcrumbs =
    [
        ("http", "GET https://inventory.internal/api/stock/88412 [200]", "info"),
        ("http", "POST https://payments.internal/v1/charges [502]", "warning"),
        ("db.query", "SELECT * FROM orders WHERE id = @id", "info"),
        ("db.query", "UPDATE carts SET updated_at = now() WHERE id = @id", "info"),
        ("navigation", "/checkout -> /checkout/payment", "info"),
        ("auth", "Token refreshed for user", "info"),
        ("cache", "MISS catalog:sku:88412", "debug"),
        ("queue", "Published OrderPlaced to orders.events", "info"),
    ];
}
