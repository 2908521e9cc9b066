using Faultline.Operations;

namespace Faultline.Tests.Operations;

public sealed class QueryBindingProblemsTests
{
    [Theory]
    [InlineData(typeof(int?), "25", true)]
    [InlineData(typeof(int?), "many", false)]
    [InlineData(typeof(long), "9000000000", true)]
    [InlineData(typeof(long), "9e9", false)]
    [InlineData(typeof(bool?), "true", true)]
    [InlineData(typeof(bool?), "yes", false)]
    [InlineData(typeof(DateTimeOffset?), "2026-11-26T10:00:00Z", true)]
    [InlineData(typeof(DateTimeOffset?), "2026-13-45", false)]
    [InlineData(typeof(DayOfWeek?), "monday", true)]
    [InlineData(typeof(DayOfWeek?), "someday", false)]
    public void A_value_parses_as_the_generated_binder_would(Type type, string value, bool parses) =>
        Assert.Equal(parses, QueryBindingProblems.Parses(type, value));

    [Fact]
    public void A_type_without_a_culture_aware_TryParse_is_never_blamed() =>
        Assert.True(QueryBindingProblems.Parses(typeof(Uri), "::not a uri::"));
}
