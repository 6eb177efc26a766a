#!/bin/sh
# Run once by the postgres image on an empty data directory: the role and
# database of voxflow's store (Temporal's databases are created by the
# temporal-schema service).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
	-v pw="$VOXFLOW_DB_PASSWORD" <<'SQL'
CREATE ROLE voxflow LOGIN PASSWORD :'pw';
CREATE DATABASE voxflow OWNER voxflow;
SQL
