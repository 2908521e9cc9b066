using System.Text;
using System.Text.RegularExpressions;
using Faultline.Docker;
using Microsoft.Extensions.Time.Testing;

namespace Faultline.Tests.Docker;

/// <summary>The exact forms Docker's syslog driver writes (daemon/logger/syslog), plus RFC edge cases.</summary>
public sealed class SyslogParserTests
{
    private static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
    private static readonly SyslogParser Parser = new(new Regex(new DockerOptions().SyslogTagPattern), Time);

    private static ContainerLogLine Parse(string text)
    {
        var line = Parser.Parse(Encoding.UTF8.GetBytes(text), out var reason);
        Assert.True(line is not null, $"not parsed: {reason}");
        return line!;
    }

    [Fact]
    public void Docker_rfc5424micro_with_a_name_and_id_tag()
    {
        var line = Parse("<27>1 2026-11-25T11:59:58.123456Z dockerhost web/4f1c2a3b4d5e 812 web/4f1c2a3b4d5e - boom\n");
        Assert.Equal("boom", line.Message);
        Assert.Equal(3, line.Severity);
        Assert.Equal("web", line.ContainerName);
        Assert.Equal("4f1c2a3b4d5e", line.ContainerId);
        Assert.Equal("dockerhost", line.Host);
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 11, 59, 58, TimeSpan.Zero).AddTicks(1234560), line.Timestamp);
    }

    [Fact]
    public void Docker_default_format_has_no_host_and_the_short_id_as_tag()
    {
        var line = Parse("<30>Nov 25 11:59:58 4f1c2a3b4d5e[812]: listening on :8080");
        Assert.Equal("listening on :8080", line.Message);
        Assert.Equal(6, line.Severity);
        Assert.Null(line.Host);
        Assert.Equal("4f1c2a3b4d5e", line.ContainerId);
        Assert.Null(line.ContainerName);
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 11, 59, 58, TimeSpan.Zero), line.Timestamp);
    }

    [Fact]
    public void Docker_rfc3164_has_a_host_and_a_template_tag_with_the_image()
    {
        var line = Parse("<11>Nov  5 01:02:03 dockerhost api/4f1c2a3b4d5e/registry.local/api:1.2[812]: failed: disk full");
        Assert.Equal("failed: disk full", line.Message);
        Assert.Equal("dockerhost", line.Host);
        Assert.Equal("api", line.ContainerName);
        Assert.Equal("registry.local/api:1.2", line.Image);
        Assert.Equal(5, line.Timestamp!.Value.Day);
    }

    [Fact]
    public void A_bsd_timestamp_in_the_future_belongs_to_last_year()
    {
        Assert.Equal(2025, Parse("<14>Dec 31 23:59:59 host app: m").Timestamp!.Value.Year);
    }

    [Fact]
    public void Structured_data_with_escapes_gives_the_project_key()
    {
        var line = Parse("<14>1 - - app - - [meta a=\"x\\\"]y\"][faultline@32473 key=\"abc\"] hello");
        Assert.Equal("abc", line.ProjectKey);
        Assert.Equal("hello", line.Message);
    }

    [Theory]
    [InlineData("hello", "malformed")]
    [InlineData("<>1 x", "bad_priority")]
    [InlineData("<192>1 - - - - - - x", "bad_priority")]
    [InlineData("<14>1 - - app - - [unterminated x=\"y", "bad_structured_data")]
    public void Not_syslog_is_refused_with_a_reason(string text, string reason)
    {
        Assert.Null(Parser.Parse(Encoding.UTF8.GetBytes(text), out var actual));
        Assert.Equal(reason, actual);
    }
}
