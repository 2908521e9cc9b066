using System.Globalization;
using System.Reflection;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace Faultline.Operations;

/// <summary>
/// Names the query parameter behind a bare 400. The endpoints are bound at compile time by the request
/// delegate generator (it saves the expression trees the runtime binder compiles at start: ~10 MiB of
/// idle memory), but for an optional value it cannot parse (<c>?limit=many</c>) the generated code only
/// sets 400, where the runtime binder threw and <see cref="BadRequestExceptionHandler"/> said which
/// parameter. After such a 400 this finds the first query value that does not parse as its parameter's
/// type and answers a ProblemDetails naming it.
/// </summary>
public sealed class QueryBindingProblems(RequestDelegate next, IProblemDetailsService problemDetails)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);
        if (context.Response.StatusCode != StatusCodes.Status400BadRequest || context.Response.HasStarted
            || context.GetEndpoint() is not { } endpoint)
        {
            return;
        }
        foreach (var parameter in endpoint.Metadata.GetOrderedMetadata<IParameterBindingMetadata>())
        {
            if (!parameter.HasTryParse || !context.Request.Query.TryGetValue(parameter.Name, out var values))
            {
                continue;
            }
            var value = values.ToString();
            if (value.Length == 0 || Parses(parameter.ParameterInfo.ParameterType, value))
            {
                continue;
            }
            await problemDetails.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status400BadRequest,
                    Title = "Bad request",
                    Detail = $"Failed to bind parameter \"{parameter.Name}\" from \"{value}\".",
                },
            });
            return;
        }
    }

    /// <summary>Parses as the generated binder does: enums by name, other types by their TryParse with the invariant culture.</summary>
    internal static bool Parses(Type type, string value)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target.IsEnum)
        {
            return Enum.TryParse(target, value, ignoreCase: true, out _);
        }
        if (target == typeof(DateTimeOffset))
        {
            return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out _);
        }
        if (target == typeof(DateTime))
        {
            return DateTime.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AllowWhiteSpaces, out _);
        }
        const BindingFlags PublicStatic = BindingFlags.Public | BindingFlags.Static;
        if (target.GetMethod("TryParse", PublicStatic, [typeof(string), typeof(IFormatProvider), target.MakeByRefType()]) is { } withCulture)
        {
            return (bool)withCulture.Invoke(null, [value, CultureInfo.InvariantCulture, null])!;
        }
        if (target.GetMethod("TryParse", PublicStatic, [typeof(string), target.MakeByRefType()]) is { } plain)
        {
            return (bool)plain.Invoke(null, [value, null])!;
        }
        // A type this cannot check: the value is not reported as the culprit.
        return true;
    }
}
