pub mod chart;
pub mod failure;
pub mod form;
pub mod history_kept;
pub mod live;
pub mod page_data;
pub mod shell;
pub mod tabs;
