//! The configuration's layers, defaults and checks.

use super::*;

#[test]
fn layers_apply_in_order() {
    figment::Jail::expect_with(|jail| {
        jail.create_dir("config")?;
        jail.create_file(
            "config/hourglass.toml",
            "port = 9000\nregion = \"eu-west-1\"\n[sqlite]\nsynchronous = \"NORMAL\"\n",
        )?;
        jail.set_env("HOURGLASS_PORT", "9100");
        jail.set_env("AWS_DEFAULT_REGION", "ap-south-1");
        jail.set_env("WAIT_TIME_SCALE", "0.5");
        jail.set_env("AWS_ACCOUNT_ID", "000011112222");
        let c = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
        assert_eq!(c.port, 9100, "env beats file");
        assert_eq!(
            c.region, "ap-south-1",
            "Step Functions Local variable beats file"
        );
        assert_eq!(
            c.sqlite.synchronous,
            Synchronous::Normal,
            "file beats default"
        );
        assert_eq!(c.wait_time_scale, 0.5);
        assert_eq!(c.account_id, "000011112222", "digits stay a string");
        let flags = Overrides {
            port: Some(0),
            ..Default::default()
        };
        let c = Config::load(None, &flags).map_err(|e| e.to_string())?;
        assert_eq!(c.port, 0, "flag beats env");
        Ok(())
    });
}

#[test]
fn the_shipped_file_holds_the_defaults() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/hourglass.toml");
    let c: Config = Figment::from(Toml::file_exact(path))
        .extract()
        .expect("config/hourglass.toml parses");
    assert_eq!(c, Config::default());
}

#[test]
fn bad_values_name_the_key() {
    let cases = [
        ("negative scale", "WAIT_TIME_SCALE", "-1", "wait_time_scale"),
        ("short account", "AWS_ACCOUNT_ID", "42", "account_id"),
        ("not a port", "HOURGLASS_PORT", "eighty", "port"),
        ("no scheme", "LAMBDA_ENDPOINT", "h:1", "lambda_endpoint"),
        ("not http", "LAMBDA_ENDPOINT", "ftp://h", "lambda_endpoint"),
        (
            "no timers",
            "HOURGLASS_TIMER__MAX_IN_FLIGHT",
            "0",
            "max_in_flight",
        ),
        (
            "too many timers",
            "HOURGLASS_TIMER__MAX_IN_FLIGHT",
            "1000001",
            "timer.max_in_flight",
        ),
        (
            "idle for ever",
            "HOURGLASS_LIMITS__IDLE_CONNECTION_SECS",
            "18446744073709551615",
            "idle_connection_secs",
        ),
    ];
    for (name, var, value, key) in cases {
        figment::Jail::expect_with(|jail| {
            jail.set_env(var, value);
            let err = Config::load(None, &Overrides::default())
                .expect_err(name)
                .to_string();
            assert!(err.to_lowercase().contains(key), "{name}: {err}");
            Ok(())
        });
    }
}
