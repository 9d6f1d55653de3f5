"""The reference deployment under load with faults injected: `run.ChaosRun`, the faults of
`scenarios`, hostile requests (`fuzz`), and the deployment's settings for it (`settings`)."""
