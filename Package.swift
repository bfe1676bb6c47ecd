// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "chat-bridge",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "bridge", targets: ["Bridge"]),
        .executable(name: "persister", targets: ["Persister"]),
        .executable(name: "console", targets: ["Console"]),
        .executable(name: "redis-bench", targets: ["RedisBench"]),
        .executable(name: "gateway-bench", targets: ["GatewayBench"]),
        .library(name: "RedisClient", targets: ["RedisClient"]),
        .library(name: "Model", targets: ["Model"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.1.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        // C libraries from Debian, found through pkg-config.
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CMariaDB", pkgConfig: "libmariadb", providers: [.apt(["libmariadb-dev"])]),
        .systemLibrary(name: "CCrypt", pkgConfig: "libcrypt", providers: [.apt(["libcrypt-dev"])]),
        .systemLibrary(name: "CQREncode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),

        // QR codes as PNG images: libqrencode for the symbol, libpng for the file.
        .target(name: "QRCode", dependencies: ["CQREncode", "CPNG"]),

        // Shared types, key names and the stream schema. No networking.
        .target(name: "Model"),

        // The `lua/` scripts, embedded at build time by the EmbedLua plugin.
        .executableTarget(name: "EmbedLuaTool", path: "Plugins/EmbedLuaTool"),
        .plugin(name: "EmbedLua", capability: .buildTool(), dependencies: ["EmbedLuaTool"]),
        .target(name: "LuaScripts", plugins: ["EmbedLua"]),

        // Pipelined Redis client: hiredis for RESP, SwiftNIO for transport.
        .target(
            name: "RedisClient",
            dependencies: [
                "CHiredis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),

        // One type per Lua script: named keys and arguments, a typed reply.
        .target(name: "ChatScripts", dependencies: ["Model", "RedisClient", "LuaScripts"]),

        // Thin Swift layer over libmariadb (persister only).
        .target(
            name: "MariaDB",
            dependencies: [
                "CMariaDB",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // glibc's posix_spawn extension that Swift's Glibc module does not declare.
        .target(name: "CSpawn"),

        // What both executables share: options, logging and metrics bootstrap.
        .target(
            name: "ChatRuntime",
            dependencies: [
                "CSpawn",
                "Model",
                "RedisClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                // The /metrics listener both executables serve (MetricsListener).
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // The bridge, in three layers with dependencies pointing down:
        // Bridge (the executable: options, settings, composition, services)
        //   -> ChatAPI (the HTTP API: routes, stores, auth middleware, uploads)
        //   -> ChatGateway (the WebSocket gateway, delivery across processes, sending
        //      and revoking messages; no HTTP routes)
        //   -> Model, RedisClient, ChatRuntime.
        .target(
            name: "ChatGateway",
            dependencies: [
                "Model",
                "ChatScripts",
                "RedisClient",
                "ChatRuntime",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),

        .target(
            name: "ChatAPI",
            dependencies: [
                "ChatGateway",
                "ChatScripts",
                "Model",
                "RedisClient",
                "ChatRuntime",
                "CCrypt",
                "QRCode",
                .product(name: "_NIOFileSystem", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        .executableTarget(
            name: "Bridge",
            dependencies: [
                "ChatAPI",
                "ChatGateway",
                "Model",
                "LuaScripts",
                "RedisClient",
                "ChatRuntime",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),

        .executableTarget(
            name: "Persister",
            dependencies: [
                "Model",
                "RedisClient",
                "MariaDB",
                "ChatRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),

        // The operators' console (docs/console.md): its own listener and Redis user, pages and
        // a JSON API over the admin scripts. Never MariaDB: changes reach it as entity events.
        .executableTarget(
            name: "Console",
            dependencies: [
                "ChatAPI",
                "ChatGateway",
                "ChatScripts",
                "LuaScripts",
                "Model",
                "RedisClient",
                "ChatRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        .executableTarget(
            name: "RedisBench",
            dependencies: [
                "RedisClient",
                "LuaScripts",
                "ChatScripts",
                "Model",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/RedisBench"
        ),

        // WebSocket client load generator for scripts/bench-gateway.sh (no project code:
        // it drives the bridge, and nginx+nchan as the baseline, over the network).
        .executableTarget(
            name: "GatewayBench",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            path: "Benchmarks/GatewayBench"
        ),

        .target(
            name: "TestSupport",
            dependencies: [
                "RedisClient", "MariaDB", "ChatRuntime",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "ModelTests", dependencies: ["Model"]),
        // The console's router in-process against the Redis of `make test`, and its parts
        // (escaping, forms, flashes, options); the browser suites are ConsoleTests.
        .testTarget(
            name: "ConsoleRouteTests",
            dependencies: [
                "Console", "ChatRuntime", "RedisClient", "TestSupport", "Model",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(name: "ChatScriptsTests", dependencies: ["ChatScripts", "LuaScripts"]),
        .testTarget(
            name: "RedisClientTests",
            dependencies: [
                "RedisClient", "LuaScripts", "TestSupport",
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "BridgeTests",
            dependencies: [
                "Bridge", "ChatAPI", "ChatGateway", "ChatScripts", "TestSupport", "RedisClient", "QRCode", "CPNG",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "PersisterTests",
            dependencies: [
                "Persister", "MariaDB", "TestSupport", "RedisClient", "Model", "ChatScripts", "LuaScripts",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The operators' console in a real browser (Browser/: the Selenium scenarios).
        .testTarget(name: "ConsoleTests", dependencies: ["TestSupport", "RedisClient", "MariaDB"], exclude: ["Browser"]),
    ]
)
