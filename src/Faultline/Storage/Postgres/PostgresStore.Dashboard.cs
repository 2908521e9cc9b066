namespace Faultline.Storage.Postgres;

public sealed partial class PostgresStore
{
    protected override string TagPairsFunction => "jsonb_each_text";
}
