# Thin wrappers; the logic lives in scripts/. See README.md.
#   make test ARGS="--filter RedisClientTests"   (ARGS go to swift test)

ARGS ?=

.PHONY: run test build bench-redis bench-gateway bench-chat bench-group bench-persister bench-persister-tuning bench-persister-shards bench-wakeup bench-hostile bench-console bench-hydrate bench-cluster clean-data

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh $(ARGS)

build:
	bash scripts/build.sh

bench-redis:
	bash scripts/bench-redis.sh $(ARGS)

bench-gateway:
	bash scripts/bench-gateway.sh

bench-chat:
	bash scripts/bench-chat.sh

bench-group:
	bash scripts/bench-group.sh

bench-persister:
	bash scripts/bench-persister.sh

bench-persister-tuning:
	bash scripts/bench-persister-tuning.sh

bench-persister-shards:
	bash scripts/bench-persister-shards.sh

bench-wakeup:
	bash scripts/bench-wakeup.sh

bench-hostile:
	bash scripts/bench-hostile.sh

bench-console:
	bash scripts/bench-console.sh

bench-hydrate:
	bash scripts/bench-hydrate.sh

bench-cluster:
	bash scripts/bench-cluster.sh

clean-data:
	bash scripts/clean-data.sh
