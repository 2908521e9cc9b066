namespace Faultline.Storage.Sqlite;

public sealed partial class SqliteStore
{
    protected override string TagPairsFunction => "json_each";
}
