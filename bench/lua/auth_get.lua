-- GET with the bench shopper's token (WRK_TOKEN).
wrk.headers["Authorization"] = "Bearer " .. os.getenv("WRK_TOKEN")
