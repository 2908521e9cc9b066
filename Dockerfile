# syntax=docker/dockerfile:1
# Faultline container image. Build from the repository root:
#   docker build -t faultline .
#   docker run -p 8100:8100 -v faultline-data:/data faultline
# Configuration is entirely by environment variables (docs/configuration.md), for example
#   -e Faultline__Storage__Provider=postgres -e Faultline__Storage__Postgres__ConnectionString='Host=...'

# Build stage. It runs on the build machine's own platform: the published output is portable IL
# (no apphost; SQLite's native libraries for every architecture are included), so one build serves
# linux/amd64 and linux/arm64 images without emulating the compiler.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src

# Restore first, from the files that decide the package graph only, so that a source change
# does not invalidate the restored packages layer. Versions come from Directory.Packages.props
# (central package management); Directory.Build.props and .editorconfig set the build rules
# (warnings are errors, code style enforced), global.json the SDK.
COPY Directory.Build.props Directory.Packages.props global.json .editorconfig ./
COPY src/Faultline/Faultline.csproj src/Faultline/
RUN dotnet restore src/Faultline/Faultline.csproj

COPY src/Faultline/ src/Faultline/
RUN dotnet publish src/Faultline -c Release -o /app --no-restore -p:UseAppHost=false

# Runtime stage: ASP.NET Core runtime only, no SDK. The default aspnet:10.0 image (Ubuntu 24.04)
# rather than a chiseled one: chiseled images have no shell, and the health check below needs
# bash; the image already has the non-root user `app` (uid 1654, $APP_UID).
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app

# /data holds the SQLite database (the default store). With PostgreSQL it stays empty.
RUN mkdir -p /data && chown 1654:1654 /data

COPY --from=build /app ./

# The server reads ASP.NET Core configuration: these are defaults for the container, each
# overridable with -e. `Urls` (not ASPNETCORE_URLS) because appsettings.json sets Urls and a plain
# environment variable overrides it, while ASPNETCORE_-prefixed host variables do not. The base
# image's ASPNETCORE_HTTP_PORTS=8080 is cleared so Kestrel does not warn about two settings.
ENV Urls=http://0.0.0.0:8100 \
    ASPNETCORE_HTTP_PORTS= \
    Faultline__Storage__Provider=sqlite \
    Faultline__Storage__Sqlite__Path=/data/faultline.db \
    Faultline__Retention__Archive__LocalPath=/data/archive

EXPOSE 8100
VOLUME ["/data"]

USER 1654

# Liveness: GET /healthz must answer 200. The runtime image has neither curl nor wget, and adding
# a package (and its updates) only for this is worse than bash's own /dev/tcp: one HTTP/1.0 request,
# the status line read back. /readyz (store reachable, schema current) is what compose.yaml
# checks before it reports the service healthy; here a lost database should not mark the process
# for replacement. If you change Urls to another port, override this check too.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8100 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

ENTRYPOINT ["dotnet", "/app/faultline.dll"]
