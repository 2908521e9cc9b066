using Faultline.Issues;

namespace Faultline.Tests.Issues;

public class MessageNormalizerTests
{
    [Theory]
    [InlineData("Timeout after 3000 ms for order 4f9c2e1a-3b7d-4c1e-9a2f-0e8d7c6b5a41", "Timeout after <int> ms for order <uuid>")]
    [InlineData("Order 4F9C2E1A-3B7D-4C1E-9A2F-0E8D7C6B5A41 is locked", "Order <uuid> is locked")]
    [InlineData("Access violation at 0x7ffde4a1", "Access violation at <hex>")]
    [InlineData("Commit 3f9a2c1b9e not found", "Commit <hex> not found")]
    [InlineData("Connection to 10.0.0.12:5432 refused", "Connection to <ip>:<int> refused")]
    [InlineData("No account for jane.doe+test@example.co.uk", "No account for <email>")]
    [InlineData("No account for user42@example.com", "No account for <email>")]
    [InlineData("Job started 2024-03-05T10:15:30.123Z failed", "Job started <date> failed")]
    [InlineData("Job started 2024-03-05 10:15:30+01:00 failed", "Job started <date> failed")]
    [InlineData("Invoice due 2024-03-05", "Invoice due <date>")]
    [InlineData("Order #42 failed for user 7", "Order #<int> failed for user <int>")]
    [InlineData("Took 3000ms", "Took <int>ms")]
    [InlineData("Row 12345678901 missing", "Row <int> missing")]
    public void Variable_parts_are_replaced_by_placeholders(string message, string expected)
    {
        Assert.Equal(expected, MessageNormalizer.Normalize(message));
    }

    [Theory]
    [InlineData("Int32 overflow in utf8 decoder")]
    [InlineData("Value order_42 is stale")]
    [InlineData("Cache deadbeef refused")]
    public void Digits_and_letters_that_belong_to_an_identifier_are_kept(string message)
    {
        Assert.Equal(message, MessageNormalizer.Normalize(message));
    }

    [Fact]
    public void Whitespace_runs_collapse_to_one_space_and_ends_are_trimmed()
    {
        Assert.Equal("many spaces here", MessageNormalizer.Normalize("  many\t spaces \r\n here  "));
    }

    [Fact]
    public void Empty_message_stays_empty()
    {
        Assert.Equal(string.Empty, MessageNormalizer.Normalize(string.Empty));
    }

    [Fact]
    public void Messages_differing_only_in_ids_normalise_to_the_same_text()
    {
        var first = MessageNormalizer.Normalize("User 17 (bob@example.com) hit 192.168.1.20 at 2024-01-01T00:00:00Z");
        var second = MessageNormalizer.Normalize("User 9031 (amy@example.org) hit 10.1.1.1 at 2025-12-31T23:59:59Z");

        Assert.Equal("User <int> (<email>) hit <ip> at <date>", first);
        Assert.Equal(first, second);
    }
}
