using System.ComponentModel.DataAnnotations;

namespace Faultline.Storage;

public sealed class StorageOptions
{
    public const string Section = "Faultline:Storage";

    /// <summary>"sqlite" (default: nothing to install) or "postgres" (production, several nodes).</summary>
    [Required]
    [RegularExpression("^(sqlite|postgres)$", ErrorMessage = "Faultline:Storage:Provider must be 'sqlite' or 'postgres'.")]
    public string Provider { get; set; } = "sqlite";

    public SqliteStorageOptions Sqlite { get; set; } = new();

    public PostgresStorageOptions Postgres { get; set; } = new();
}

public sealed class SqliteStorageOptions
{
    /// <summary>Relative paths are under the content root, so a plain `dotnet run` keeps its data in ./data.</summary>
    public string Path { get; set; } = "data/faultline.db";
}

public sealed class PostgresStorageOptions
{
    /// <summary>An Npgsql connection string; required when the provider is postgres. No default: no default password.</summary>
    public string? ConnectionString { get; set; }
}
