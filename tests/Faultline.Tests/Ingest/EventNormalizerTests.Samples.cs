using System.Text.Json;
using Faultline.Events;
using Faultline.Ingest;
using Faultline.Issues;

namespace Faultline.Tests.Ingest;

public partial class EventNormalizerTests
{
    // Sentry's own sample payloads (copied from ../shared/fixtures/sentry-samples).

    private static string SamplePath(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "sentry-samples", file);

    private static FaultlineEvent NormalizeSample(string file)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(SamplePath(file)));
        return new EventNormalizer(new IngestOptions(), strict: false).Normalize(document.RootElement, "event", ReceivedAt);
    }

    public static TheoryData<string> SampleFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures", "sentry-samples"), "*.json").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }
        return data;
    }

    [Fact]
    public void All_sentry_samples_are_copied_into_the_test_output()
    {
        Assert.Equal(21, SampleFiles().Count);
    }

    [Theory]
    [MemberData(nameof(SampleFiles))]
    public void Every_sentry_sample_normalises_leniently_with_a_title(string file)
    {
        var e = NormalizeSample(file);

        Assert.False(string.IsNullOrWhiteSpace(IssueSummary.Title(e)));
    }

    // The expected title and primary frame count of each sample, read off the JSON by hand. The
    // primary exception is the last non-empty entry; frames are capped at the default 50.
    [Theory]
    [InlineData("android-ndk.json", "SIGSEGV: Segfault", 36)]
    [InlineData("android.json", "Exception: Some exception.", 11)]
    [InlineData("cocoa.json", "NSRangeException: *** -[__NSArray0 objectAtIndex:]: index 3 beyond bounds for empty NSArray", 31)]
    [InlineData("cordova.json", "Error: Sentry Initialized", 2)]
    [InlineData("elixir.json", "exit: ** (exit) :badarith", 6)]
    [InlineData("exception-with-address-instruction.json",
        "The operation couldn’t be completed. (ServiceKit.ClientTask.Result.ResultError error 1.): The operation couldn’t be completed. (ServiceKit.ClientTask.Result.ResultError error 1.)", 4)]
    [InlineData("exceptions-and-no-threads.json",
        "ActionView::Template::Error: undefined local variable or method `foo' for #<#<Class:0x00007fcbabaf0b30>:0x00007fcbabaea7a8>", 0)]
    [InlineData("java.json", "ApiException: Authentication failed, token expired!", 50)]
    [InlineData("javascript.json", "TypeError: Object [object Object] has no method 'updateFrom'", 4)]
    [InlineData("native.json", "thread_demo: Failing!", 13)]
    [InlineData("php.json", "Exception: This is a test exception sent from the Raven CLI.", 4)]
    [InlineData("pii.json", "RuntimeError: Invalid device: A949AE01EBB07300D62AE0178F0944DD21F8C98C", 4)]
    [InlineData("python-modern.json", "Exception: This is an example Python exception", 2)]
    [InlineData("ruby.json", "ZeroDivisionError: divided by 0", 3)]
    [InlineData("unity.json", "DivideByZeroException: Attempted to divide by zero.", 9)]
    // invalid-interfaces.json: the last exception entry has only a type (and two empty frames).
    [InlineData("invalid-interfaces.json", "ValueError", 2)]
    public void Sentry_sample_with_an_exception_is_titled_by_it(string file, string title, int frames)
    {
        var e = NormalizeSample(file);

        Assert.Equal(title, IssueSummary.Title(e));
        Assert.Equal(frames, e.PrimaryException!.Frames.Count);
    }

    [Fact]
    public void Sentry_sample_with_a_long_exception_value_gets_a_truncated_title()
    {
        var e = NormalizeSample("python-invalid-json-error.json");

        var title = IssueSummary.Title(e);
        Assert.StartsWith("InvalidJsonError: invalid value: string \"($string || $number", title, StringComparison.Ordinal);
        Assert.EndsWith("…", title, StringComparison.Ordinal);
        Assert.Equal(14, e.PrimaryException!.Frames.Count);
    }

    [Fact]
    public void Sentry_aspnetcore_sample_is_titled_by_its_message_with_its_top_level_frames()
    {
        // It has no exception, only logentry/message and a top-level stacktrace.
        var e = NormalizeSample("aspnetcore.json");

        Assert.Equal("Param is null!", IssueSummary.Title(e));
        Assert.Equal("Samples.AspNetCore.Mvc.Controllers.HomeController in PostIndex", e.Culprit);
        Assert.Equal(50, e.PrimaryException!.Frames.Count);
        Assert.Null(e.PrimaryException.Type);
        Assert.Equal("Production", e.Tags["environment"]);
        Assert.Equal("e386dfd", e.Tags["sentry:release"]);
    }

    [Fact]
    public void Sentry_java_sample_reads_every_legacy_interface()
    {
        var e = NormalizeSample("java.json");

        Assert.Equal("Authentication failed, token expired!", e.Message);
        Assert.NotNull(e.User);
        Assert.NotNull(e.Request);
        Assert.NotEmpty(e.Breadcrumbs);
    }

    // These samples carry neither an exception type/value nor a message, so no title can be derived:
    // empty-exception.json has "exception": {"values": [null]}, empty-stacktrace.json a top-level
    // stacktrace with no frames, and python.json only a legacy Stacktrace and a Template interface.
    [Theory]
    [InlineData("empty-exception.json", 0)]
    [InlineData("empty-stacktrace.json", 0)]
    [InlineData("python.json", 5)]
    public void Sentry_sample_without_exception_or_message_is_unlabeled(string file, int frames)
    {
        var e = NormalizeSample(file);

        Assert.Equal("<unlabeled event>", IssueSummary.Title(e));
        Assert.Equal(frames, e.PrimaryException?.Frames.Count ?? 0);
    }
}
